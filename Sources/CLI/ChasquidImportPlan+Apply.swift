#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ConfigFiles
import Foundation
import MailQueue

/// Writing the plan: directories, then files (new ones created whole or not at all, with the tree's group
/// and modes as `apus init` gives them; with --force, differing ones replaced atomically), then the queue.
extension ChasquidImportPlan {
    /// Returns the number of queue items stored.
    func apply() async throws -> Int {
        for directory in directories { try InitCommand.makeDirectory(directory) }
        for file in files where file.status != .unchanged {
            do {
                if file.status == .differs { try replace(file) } else { try create(file) }
            } catch let error as ConfigFile.Failure {
                throw CLIError("cannot write \(file.path): \(error)")
            }
        }
        return try await queue.apply()
    }

    func create(_ file: File) throws {
        switch file.content {
        case .text(let text, let mode): _ = try ConfigFile.createNew(file.path, contents: Array(text.utf8), mode: mode)
        case .secret(let bytes): _ = try ConfigFile.createSecret(file.path, contents: bytes)
        case .publicFile(let bytes): _ = try ConfigFile.createPublic(file.path, contents: bytes)
        case .symlink(let target):
            guard symlink(target, file.path) == 0 else {
                throw CLIError("cannot link \(file.path) to \(target): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// --force: the new contents replace the old in one rename (never a half-written file); the mode is the
    /// one a new file would get.
    func replace(_ file: File) throws {
        switch file.content {
        case .symlink:
            unlink(file.path)
            try create(file)
        case .text(let text, let mode): try write(Array(text.utf8), to: file.path, mode: mode)
        case .secret(let bytes): try write(bytes, to: file.path, mode: 0o600)
        case .publicFile(let bytes): try write(bytes, to: file.path, mode: 0o644)
        }
    }

    func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        do { try DurableFile.write(bytes, to: path, mode: mode) } catch {
            throw CLIError("cannot replace \(path): \(error)")
        }
        _ = chmod(path, mode)
    }
}
