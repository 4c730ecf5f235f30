#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Crash-safe file writes (STYLE.md habit 8), the one implementation every module uses: the queue
/// (`FileSpool`), Maildirs, the delivery state files, the users and aliases files (`replace`, keeping the
/// old file's owner and mode), the SRS secret (`create`, never replacing), and — through `ConfigFile` — the
/// configuration tree. A write goes to a temp file in the same directory, is fsync'd, then renamed (or, to
/// create without replacing, linked) to the final name, and the directory is fsync'd. After a write returns,
/// the file survives a power cut with either its old or its new content, never a mix. Failures are
/// `ConfigFile.Failure`: the operation, the path and the errno.
///
/// Ownership: everything written here lives in the data directory, which belongs to the user the server
/// runs as (`apus`, docs/install.md). An administrator's command run as root (`apus sendmail`, `apus queue`)
/// writes there too; a root-owned 0600 file would be unreadable to the server. So when the process is root
/// and the directory belongs to another user, new files and directories get that directory's owner and
/// group (before the rename, so the server never sees a file it cannot read). Existing files are not touched.
public enum DurableFile {
    public typealias IOError = ConfigFile.Failure

    /// Writes `chunks` to `path` durably, replacing it. `syncDirectory: false` lets a caller batch the
    /// directory fsync (see `syncDirectory(_:)`).
    public static func write(_ chunks: [UnsafeRawBufferPointer], to path: String, mode: mode_t = 0o600,
                             syncDirectory: Bool = true) throws {
        let dir = ConfigFile.parent(of: path)
        let tmp = try temporaryCopy(chunks, in: dir, mode: mode, owner: try foreignOwner(of: dir))
        guard rename(tmp, path) == 0 else {
            let failure = IOError(operation: .rename, path: path, errno: errno)
            unlink(tmp)
            throw failure
        }
        if syncDirectory { try Self.syncDirectory(dir) }
    }

    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600, syncDirectory: Bool = true) throws {
        try bytes.withUnsafeBytes { try write([$0], to: path, mode: mode, syncDirectory: syncDirectory) }
    }

    /// Replaces `path` with `bytes`, keeping the old file's mode and (when root) its owner; a new file gets
    /// `defaultMode` and the directory's owner under the rule above. For files edited in place (users).
    public static func replace(_ bytes: [UInt8], at path: String, defaultMode: mode_t) throws {
        let dir = ConfigFile.parent(of: path)
        var old = stat()
        let exists = stat(path, &old) == 0
        let owner = exists ? (geteuid() == 0 ? (old.st_uid, old.st_gid) : nil) : try foreignOwner(of: dir)
        let tmp = try bytes.withUnsafeBytes { buffer in
            try temporaryCopy([buffer], in: dir, mode: exists ? old.st_mode & 0o7777 : defaultMode, owner: owner)
        }
        guard rename(tmp, path) == 0 else {
            let failure = IOError(operation: .rename, path: path, errno: errno)
            unlink(tmp)
            throw failure
        }
        try syncDirectory(dir)
    }

    /// Creates `path` holding `bytes` unless it exists (false then, and nothing changes): the complete file
    /// appears at once (a hard link of the fsync'd temp file), never a partial one, never a replacement. For
    /// secrets made on first use by whichever process comes first (the SRS key).
    public static func create(_ bytes: [UInt8], at path: String, mode: mode_t) throws -> Bool {
        let dir = ConfigFile.parent(of: path)
        let owner = try foreignOwner(of: dir)
        let tmp = try bytes.withUnsafeBytes { buffer in
            try temporaryCopy([buffer], in: dir, mode: mode, owner: owner)
        }
        return try linkInPlace(tmp, at: path)
    }

    /// Publishes the complete temp file `tmp` as `path` unless `path` exists (false then): hard link, remove
    /// the temp name, fsync the directory.
    static func linkInPlace(_ tmp: String, at path: String) throws -> Bool {
        defer { unlink(tmp) }
        guard link(tmp, path) == 0 else {
            if errno == EEXIST { return false }
            throw IOError(operation: .link, path: path, errno: errno)
        }
        try syncDirectory(ConfigFile.parent(of: path))
        return true
    }

    /// A new file in `dir` with `mode` (exactly) and `owner`, holding `chunks`, fsync'd; its path. Removed
    /// again when anything fails.
    static func temporaryCopy(_ chunks: [UnsafeRawBufferPointer], in dir: String, mode: mode_t,
                              owner: (uid: uid_t, gid: gid_t)?) throws -> String {
        try temporaryCopy(chunks, in: dir) { fd, tmp in
            guard fchmod(fd, mode) == 0 else { throw IOError(operation: .chmod, path: tmp, errno: errno) }   // no umask
            if let owner, fchown(fd, owner.uid, owner.gid) != 0 {
                throw IOError(operation: .chown, path: tmp, errno: errno)
            }
        }
    }

    /// A new file in `dir` (mode 0600 until `prepare` sets owner and mode on its descriptor), holding
    /// `chunks`, fsync'd; its path. Removed again when anything fails.
    static func temporaryCopy(_ chunks: [UnsafeRawBufferPointer], in dir: String,
                              prepare: (Int32, String) throws -> Void) throws -> String {
        let tmp = dir + "/" + temporaryName()
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IOError(operation: .create, path: tmp, errno: errno) }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        defer { close(fd) }
        try prepare(fd, tmp)
        for chunk in chunks { try writeAll(fd, chunk, path: tmp) }
        guard fsync(fd) == 0 else { throw IOError(operation: .fsync, path: tmp, errno: errno) }
        ok = true
        return tmp
    }

    /// The whole file, or nil when it does not exist. Any other failure (EACCES above all) is an `IOError`
    /// with its errno, so that the caller can say why rather than treat the file as missing.
    public static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw IOError(operation: .open, path: path, errno: errno)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw IOError(operation: .fstat, path: path, errno: errno) }
        var bytes = [UInt8](repeating: 0, count: max(Int(info.st_size), 0))
        var count = 0
        while true {
            if count == bytes.count { bytes.append(contentsOf: repeatElement(0, count: 4096)) }  // grew meanwhile
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(operation: .read, path: path, errno: errno)
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
        guard fd >= 0 else { throw IOError(operation: .open, path: dir, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw IOError(operation: .fsync, path: dir, errno: errno) }
    }

    /// `mkdir -p` with the given mode (exactly: the umask does not apply). Each directory it creates takes
    /// its parent's owner and group under the rule above.
    public static func makeDirectories(_ path: String, mode: Int = 0o700) throws {
        var missing: [String] = []
        var current = path
        while !current.isEmpty, current != "/" {
            var info = stat()
            if stat(current, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else { throw IOError(operation: .mkdir, path: current, errno: ENOTDIR) }
                break
            }
            guard errno == ENOENT else { throw IOError(operation: .stat, path: current, errno: errno) }
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for dir in missing.reversed() {
            guard mkdir(dir, mode_t(mode)) == 0 else {
                if errno == EEXIST { continue }   // made by another process meanwhile
                throw IOError(operation: .mkdir, path: dir, errno: errno)
            }
            // Through a descriptor, not the path: the owner of the parent could swap in a symbolic link
            // between mkdir and chown, and have root chown the file it points to.
            let fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw IOError(operation: .open, path: dir, errno: errno) }
            defer { close(fd) }
            guard fchmod(fd, mode_t(mode)) == 0 else { throw IOError(operation: .chmod, path: dir, errno: errno) }
            if let owner = try foreignOwner(of: (dir as NSString).deletingLastPathComponent),
               fchown(fd, owner.uid, owner.gid) != 0 {
                throw IOError(operation: .chown, path: dir, errno: errno)
            }
        }
    }

    /// The owner and group new entries of `dir` should get, when this process is root and `dir` belongs to
    /// another user; nil otherwise (the entry keeps this process's ids).
    public static func foreignOwner(of dir: String) throws -> (uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0 else { return nil }
        var info = stat()
        guard stat(dir.isEmpty ? "." : dir, &info) == 0 else { throw IOError(operation: .stat, path: dir, errno: errno) }
        if info.st_uid != 0 { return (info.st_uid, info.st_gid) }
        // A root-owned directory of another group (the root:apus 0750 config tree of docs/install.md): the new
        // entry stays root's but takes that group, so the server reads it through the group.
        return info.st_gid == getegid() ? nil : (0, info.st_gid)
    }
}
