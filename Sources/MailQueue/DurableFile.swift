#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Crash-safe file writes (STYLE.md habit 8): temp file in the same directory, write, fsync,
/// rename over the final name, fsync the directory. After `write` returns, the file survives a
/// power cut with either its old or its new content, never a mix.
public enum DurableFile {
    public struct IOError: Error, CustomStringConvertible {
        public let operation: String
        public let path: String
        public let errno: Int32
        public init(operation: String, path: String, errno: Int32) {
            self.operation = operation
            self.path = path
            self.errno = errno
        }
        public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
    }

    /// Writes `chunks` to `path` durably. `syncDirectory: false` lets a caller batch the
    /// directory fsync (see `syncDirectory(_:)`).
    public static func write(_ chunks: [UnsafeRawBufferPointer], to path: String, mode: mode_t = 0o600,
                             syncDirectory: Bool = true) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = dir + "/.tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw IOError(operation: "open", path: tmp, errno: errno) }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            defer { close(fd) }
            for chunk in chunks {
                var offset = 0
                while offset < chunk.count {
                    let n = Glibc.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw IOError(operation: "write", path: tmp, errno: errno)
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw IOError(operation: "fsync", path: tmp, errno: errno) }
        }
        guard rename(tmp, path) == 0 else { throw IOError(operation: "rename", path: path, errno: errno) }
        ok = true
        if syncDirectory { try Self.syncDirectory(dir) }
    }

    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600, syncDirectory: Bool = true) throws {
        try bytes.withUnsafeBytes { try write([$0], to: path, mode: mode, syncDirectory: syncDirectory) }
    }

    /// fsync of a directory, so that a rename or unlink in it is durable.
    public static func syncDirectory(_ dir: String) throws {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw IOError(operation: "open", path: dir, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw IOError(operation: "fsync", path: dir, errno: errno) }
    }

    /// `mkdir -p` with the given mode.
    public static func makeDirectories(_ path: String, mode: Int = 0o700) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: mode])
    }
}
