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
///
/// Ownership: everything written here lives in the data directory, which belongs to the user the server
/// runs as (`apus`, docs/install.md). An administrator's command run as root (`apus sendmail`, `apus queue`)
/// writes there too; a root-owned 0600 file would be unreadable to the server. So when the process is root
/// and the directory belongs to another user, new files and directories get that directory's owner and
/// group (before the rename, so the server never sees a file it cannot read). Existing files are not touched.
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
            if let owner = try foreignOwner(of: dir), fchown(fd, owner.uid, owner.gid) != 0 {
                throw IOError(operation: "fchown", path: tmp, errno: errno)
            }
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

    /// The whole file, or nil when it does not exist. Any other failure (EACCES above all) is an `IOError`
    /// with its errno, so that the caller can say why rather than treat the file as missing.
    public static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw IOError(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw IOError(operation: "fstat", path: path, errno: errno) }
        var bytes = [UInt8](repeating: 0, count: max(Int(info.st_size), 0))
        var count = 0
        while true {
            if count == bytes.count { bytes.append(contentsOf: repeatElement(0, count: 4096)) }  // grew meanwhile
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            count += n
        }
        bytes.removeSubrange(count...)
        return bytes
    }

    /// fsync of a directory, so that a rename or unlink in it is durable.
    public static func syncDirectory(_ dir: String) throws {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw IOError(operation: "open", path: dir, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw IOError(operation: "fsync", path: dir, errno: errno) }
    }

    /// `mkdir -p` with the given mode (exactly: the umask does not apply). Each directory it creates takes
    /// its parent's owner and group under the rule above.
    public static func makeDirectories(_ path: String, mode: Int = 0o700) throws {
        var missing: [String] = []
        var current = path
        while !current.isEmpty, current != "/" {
            var info = stat()
            if stat(current, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else { throw IOError(operation: "mkdir", path: current, errno: ENOTDIR) }
                break
            }
            guard errno == ENOENT else { throw IOError(operation: "stat", path: current, errno: errno) }
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for dir in missing.reversed() {
            guard mkdir(dir, mode_t(mode)) == 0 else {
                if errno == EEXIST { continue }   // made by another process meanwhile
                throw IOError(operation: "mkdir", path: dir, errno: errno)
            }
            // Through a descriptor, not the path: the owner of the parent could swap in a symbolic link
            // between mkdir and chown, and have root chown the file it points to.
            let fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw IOError(operation: "open", path: dir, errno: errno) }
            defer { close(fd) }
            guard fchmod(fd, mode_t(mode)) == 0 else { throw IOError(operation: "chmod", path: dir, errno: errno) }
            if let owner = try foreignOwner(of: (dir as NSString).deletingLastPathComponent),
               fchown(fd, owner.uid, owner.gid) != 0 {
                throw IOError(operation: "chown", path: dir, errno: errno)
            }
        }
    }

    /// The owner and group new entries of `dir` should get, when this process is root and `dir` belongs to
    /// another user; nil otherwise (the entry keeps this process's ids).
    static func foreignOwner(of dir: String) throws -> (uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0 else { return nil }
        var info = stat()
        guard stat(dir.isEmpty ? "." : dir, &info) == 0 else { throw IOError(operation: "stat", path: dir, errno: errno) }
        return info.st_uid == 0 ? nil : (info.st_uid, info.st_gid)
    }
}
