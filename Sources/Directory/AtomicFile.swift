#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ConfigFiles

/// Edits of the users file: a lock around read-modify-write, and the durable replacement of
/// `ConfigFiles.DurableFile` (a crash leaves either the old or the new contents, never a mix).
enum AtomicFile {
    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Writes `text` to `path` atomically (`DurableFile.replace`), with `mode` for a new file (an existing
    /// file keeps its mode and, when root writes, its owner).
    static func write(_ text: String, to path: String, mode defaultMode: mode_t = 0o640) throws {
        do { try DurableFile.replace(Array(text.utf8), at: path, defaultMode: defaultMode) } catch let failure as ConfigFile.Failure {
            throw DirectoryError(path: failure.path, reason: "\(failure.operation) failed: \(String(cString: strerror(failure.errno)))")
        }
    }

    /// Runs `body` holding an exclusive `flock` on `directory`, so that two edits of the same domain's files
    /// (two `apus user add` at once) do not lose one another's change.
    static func withLock<T>(on directory: String, _ body: () throws -> T) throws -> T {
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw DirectoryError(path: directory, reason: "cannot open: \(errnoText())") }
        defer { close(dfd) }
        while flock(dfd, LOCK_EX) != 0 {
            if errno != EINTR { throw DirectoryError(path: directory, reason: "cannot lock: \(errnoText())") }
        }
        defer { flock(dfd, LOCK_UN) }
        return try body()
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
