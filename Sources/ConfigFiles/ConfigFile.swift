import Foundation

// Files in the configuration tree and who may read them (docs/install.md, "Ownership and permissions").
//
// `/etc/apus` is `root:apus`, directories 0750 and files 0640. The administrator changes it as root; the
// server runs as `apus` and only ever reads it, through its group. Commands run as root create files there
// (`apus init` for another domain, `apus dkim keygen`, the self-signed certificate), so what they create
// must stay readable by the server and by nobody else:
//
// - A new file takes the group of its directory. Root may give any group; another user only one of its
//   own, and then the file keeps the group it got.
// - A secret (a DKIM key, a certificate's privkey.pem) is 0640 when its directory is closed to others (no
//   "o" bits: its group is then the audience, `apus` in a root:apus 0750 tree), else 0600: a 0755
//   directory of a group such as `users` does not share the key with that group.
// - A new directory takes its parent's group and read/search bits, never write for group or others: under
//   a root:apus 0750 directory, root:apus 0750.
// - Nothing that exists is replaced or changed.
//
// When the server cannot read a file, `unreadableReason(errno:path:)` says whose file it is, its mode, who
// the server runs as and where the fix is documented. Layer 0: Foundation only.

/// Creating, reading and describing files of the configuration tree, by the rules above.
public enum ConfigFile {
    /// A system call that failed: what it did, on which path, and its errno.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Operation: String, Sendable, Hashable, CustomStringConvertible {
            case stat, fstat, mkdir, open, create, chgrp, chown, chmod, read, write, fsync, link, rename, unlink
            public var description: String { rawValue }
        }

        public let operation: Operation
        public let path: String
        public let errno: Int32

        public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }

        public init(operation: Operation, path: String, errno: Int32) {
            self.operation = operation
            self.path = path
            self.errno = errno
        }
    }

    /// Creates the secret `path` holding `contents` unless it exists (false then), 0640 or 0600 as above.
    /// The file appears complete, with its final group and mode, or not at all (see `createByLink`).
    public static func createSecret(_ path: String, contents: [UInt8]) throws(Failure) -> Bool {
        try createByLink(path, contents: contents, secret: true)
    }

    /// Creates `path` holding `contents`, mode 0644 (a certificate: public), unless it exists (false then);
    /// group and atomicity as for `createSecret`.
    public static func createPublic(_ path: String, contents: [UInt8]) throws(Failure) -> Bool {
        try createByLink(path, contents: contents, secret: false)
    }

    /// Creates `path` with `mode` (not subject to the umask) in place, unless it exists (O_EXCL; false then),
    /// with the group of its directory; written and fsync'd, removed again if that fails. For files whose
    /// caller chooses the mode (`apus init`: apus.toml 0644, users 0640, aliases 0644).
    public static func createNew(_ path: String, contents: [UInt8], mode: mode_t) throws(Failure) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw Failure(operation: .create, path: path, errno: errno)
        }
        var ok = false
        defer { if !ok { unlink(path) } }
        defer { close(fd) }
        var directory = stat()
        if stat(parent(of: path), &directory) == 0, fchown(fd, uid_t.max, directory.st_gid) != 0, geteuid() == 0 {
            throw Failure(operation: .chgrp, path: path, errno: errno)
        }
        _ = fchmod(fd, mode)   // open() applied the umask
        try writeAll(fd, contents, path: path)
        guard fsync(fd) == 0 else { throw Failure(operation: .fsync, path: path, errno: errno) }
        ok = true
        return true
    }

    /// `mkdir -p`: each new directory gets its parent's group (when allowed) and its parent's read and search
    /// bits, never write for group or others. Existing directories are not changed.
    public static func makeDirectories(_ path: String) throws(Failure) {
        var missing: [String] = []
        var current = path
        var info = stat()
        while stat(current, &info) != 0 {
            guard errno == ENOENT else { throw Failure(operation: .stat, path: current, errno: errno) }
            missing.append(current)
            let up = parent(of: current)
            guard up != current else { break }
            current = up
        }
        for dir in missing.reversed() {
            let up = parent(of: dir)
            var parentInfo = stat()
            guard stat(up, &parentInfo) == 0 else { throw Failure(operation: .stat, path: up, errno: errno) }
            guard mkdir(dir, 0o700) == 0 else {
                if errno == EEXIST { continue }   // made meanwhile by another process: not ours to change
                throw Failure(operation: .mkdir, path: dir, errno: errno)
            }
            let fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)   // never chown through a link
            guard fd >= 0 else { throw Failure(operation: .open, path: dir, errno: errno) }
            defer { close(fd) }
            if fchown(fd, uid_t.max, parentInfo.st_gid) != 0, geteuid() == 0 {
                throw Failure(operation: .chgrp, path: dir, errno: errno)
            }
            guard fchmod(fd, 0o700 | (parentInfo.st_mode & 0o055)) == 0 else {
                throw Failure(operation: .chmod, path: dir, errno: errno)
            }
        }
    }

    /// The whole file; the errno when it cannot be opened or read.
    public static func read(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(operation: .open, path: path, errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: .read, path: path, errno: errno)
            }
            if n == 0 { return bytes }
            bytes += chunk[..<n]
        }
    }

    /// The directory holding `path` ("." for a bare name).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A temporary file in the same directory gets the group and mode (`secret`: 0640 or 0600, else 0644), is
    /// written and fsync'd, then hard-linked to `path` (which fails if `path` exists: never a replacement) and
    /// removed; the directory is fsync'd (`DurableFile`).
    static func createByLink(_ path: String, contents: [UInt8], secret: Bool) throws(Failure) -> Bool {
        let dir = parent(of: path)
        var parentInfo = stat()
        guard stat(dir, &parentInfo) == 0 else { throw Failure(operation: .stat, path: dir, errno: errno) }
        do {
            let tmp = try contents.withUnsafeBytes { buffer in
                try DurableFile.temporaryCopy([buffer], in: dir) { fd, tmp in
                    var info = stat()
                    guard fstat(fd, &info) == 0 else { throw Failure(operation: .fstat, path: tmp, errno: errno) }
                    if info.st_gid != parentInfo.st_gid {
                        if fchown(fd, uid_t.max, parentInfo.st_gid) == 0 {
                            info.st_gid = parentInfo.st_gid
                        } else if geteuid() == 0 {
                            throw Failure(operation: .chgrp, path: tmp, errno: errno)
                        }
                    }
                    let mode = secret ? secretMode(fileGroup: info.st_gid, directory: parentInfo) : 0o644
                    guard fchmod(fd, mode) == 0 else { throw Failure(operation: .chmod, path: tmp, errno: errno) }
                }
            }
            return try DurableFile.linkInPlace(tmp, at: path)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(operation: .write, path: path, errno: EIO)   // not reached: DurableFile throws Failure
        }
    }

    /// 0640 when the file has its directory's group and the directory is closed to others, else 0600.
    static func secretMode(fileGroup: gid_t, directory: stat) -> mode_t {
        fileGroup == directory.st_gid && directory.st_mode & 0o007 == 0 ? 0o640 : 0o600
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(Failure) {
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: .write, path: path, errno: errno)
            }
            written += n
        }
    }
}
