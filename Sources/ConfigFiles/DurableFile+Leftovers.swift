#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Temp files that a crash (SIGKILL, power cut) left behind: `DurableFile.write` names them `.tmp-<hex>`
/// beside their target and renames them only once complete, so such a file is never a message, only space
/// lost (up to `max_message_bytes` each). The server removes them when it starts.
extension DurableFile {
    /// What `removeLeftovers` removed.
    public struct Leftovers: Sendable, Equatable {
        public var files = 0
        public var bytes: Int64 = 0
        public init() {}
        public static func += (a: inout Leftovers, b: Leftovers) {
            a.files += b.files
            a.bytes += b.bytes
        }
    }

    /// The prefix of every temp file `write` makes.
    public static let temporaryPrefix = ".tmp-"

    /// A new temp file name (`.tmp-<random hex>`), removed at start by `removeLeftovers` if a crash leaves it.
    public static func temporaryName() -> String {
        temporaryPrefix + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// Removes the regular files in `directory` (not below it) whose name `isLeftover` accepts — by default
    /// `DurableFile`'s own `.tmp-*`. A missing directory is nothing to do. Call it only when no writer can
    /// be running: at start, before the listeners open.
    public static func removeLeftovers(in directory: String,
                                       isLeftover: (String) -> Bool = { $0.hasPrefix(temporaryPrefix) }) -> Leftovers {
        var removed = Leftovers()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return removed }
        for name in names where isLeftover(name) {
            let path = "\(directory)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            if unlink(path) == 0 {
                removed.files += 1
                removed.bytes += Int64(info.st_size)
            }
        }
        if removed.files > 0 { try? syncDirectory(directory) }
        return removed
    }
}
