import Foundation

// Key files on disk (DESIGN.md §3): `<config>/domains/<domain>/dkim/<selector>.pem`, PKCS#8 PEM.
// The selector is the file name without `.pem`. This is the module's only file I/O.
//
// Ownership (docs/install.md, "Ownership and permissions"): the server runs as `apus` and reads the
// configuration through its group, in a `root:apus` tree with directories 0750 and files 0640; the
// administrator writes keys as root. A new key file therefore gets the group of its directory and mode 0640
// when that directory is closed to others (no "o" bits: its group is the audience), else 0600 — so a
// root:apus 0750 tree stays readable by the server and by nobody else, and a 0755 directory of a group
// such as `users` does not share the key with that group. New directories take their parent's group and
// read/search bits. Existing files and directories are never changed.

public enum DKIMKeyStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalidKey(path: String, DKIMSigningKeyError)
    case alreadyExists(path: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let p, let why): return "\(p): \(why)"
        case .invalidKey(let p, let e): return "\(p): \(e)"
        case .alreadyExists(let p): return "\(p) already exists; not overwriting it"
        case .writeFailed(let p, let why): return "\(p): \(why)"
        }
    }
}

public enum DKIMKeyStore {
    public static func directory(configDirectory: String, domain: String) -> String {
        "\(configDirectory)/domains/\(domain.lowercased())/dkim"
    }

    public static func path(configDirectory: String, domain: String, selector: String) -> String {
        "\(directory(configDirectory: configDirectory, domain: domain))/\(selector).pem"
    }

    /// Every key of the domain, sorted by selector. No directory means no keys. A file the process may not
    /// read is an error that names it, with its owner and mode and what to change.
    public static func load(configDirectory: String, domain: String) throws(DKIMKeyStoreError) -> [DKIMSigningKey] {
        let dir = directory(configDirectory: configDirectory, domain: domain)
        var info = stat()
        if stat(dir, &info) != 0 {
            if errno == ENOENT { return [] }
            throw .unreadable(path: dir, reason: ConfigFile.reason(errno: errno, path: dir))
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir)
        } catch {
            let reason = access(dir, R_OK | X_OK) != 0 ? ConfigFile.reason(errno: errno, path: dir) : "\(error)"
            throw .unreadable(path: dir, reason: reason)
        }
        var keys: [DKIMSigningKey] = []
        for name in names.sorted() where name.hasSuffix(".pem") && name.count > 4 {
            let path = "\(dir)/\(name)"
            let bytes: [UInt8]
            do { bytes = try ConfigFile.read(path) } catch {
                throw .unreadable(path: path, reason: ConfigFile.reason(errno: error.errno, path: path))
            }
            do {
                keys.append(try DKIMSigningKey(pem: String(decoding: bytes, as: UTF8.self), domain: domain.lowercased(),
                                               selector: String(name.dropLast(4))))
            } catch {
                throw .invalidKey(path: path, error)
            }
        }
        return keys
    }

    /// Writes a new key file (group and mode as described above), creating directories; refuses to replace
    /// an existing file. The file appears complete, with its final group and mode, or not at all.
    @discardableResult
    public static func write(_ key: DKIMSigningKey, configDirectory: String) throws(DKIMKeyStoreError) -> String {
        let dir = directory(configDirectory: configDirectory, domain: key.domain)
        let path = path(configDirectory: configDirectory, domain: key.domain, selector: key.selector)
        let bytes = Array((key.pkcs8PEM + (key.pkcs8PEM.hasSuffix("\n") ? "" : "\n")).utf8)
        let created: Bool
        do {
            try ConfigFile.makeDirectories(dir)
            created = try ConfigFile.create(path, bytes: bytes, secret: true)
        } catch {
            throw .writeFailed(path: error.path, reason: "\(error.operation): \(String(cString: strerror(error.errno)))")
        }
        guard created else { throw .alreadyExists(path: path) }
        return path
    }
}

/// Creating files and directories in the configuration tree with the group and modes described at the top of
/// this file. (Certificates/SelfSignedCertificate.swift has the same helper for privkey.pem: the two modules
/// share no lower module to hold it.)
enum ConfigFile {
    struct Failure: Error {
        let operation: String
        let path: String
        let errno: Int32
    }

    /// Creates `path` holding `bytes` unless it exists (false then): a temporary file in the same directory
    /// gets the group and mode (`secret`: 0640 or 0600, else 0644), is written and fsync'd, then hard-linked
    /// to `path` (which fails if `path` exists: never a replacement) and removed; the directory is fsync'd.
    static func create(_ path: String, bytes: [UInt8], secret: Bool) throws(Failure) -> Bool {
        let dir = parent(of: path)
        var parentInfo = stat()
        guard stat(dir, &parentInfo) == 0 else { throw Failure(operation: "stat", path: dir, errno: errno) }
        let temp = "\(dir)/.\(path.split(separator: "/").last ?? "new").tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(operation: "create", path: temp, errno: errno) }
        var linked = false
        defer { if !linked { unlink(temp) } }
        do {
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw Failure(operation: "fstat", path: temp, errno: errno) }
            if info.st_gid != parentInfo.st_gid {
                if fchown(fd, uid_t.max, parentInfo.st_gid) == 0 {
                    info.st_gid = parentInfo.st_gid
                } else if geteuid() == 0 {
                    throw Failure(operation: "chgrp", path: temp, errno: errno)
                }
            }
            let groupReads = info.st_gid == parentInfo.st_gid && parentInfo.st_mode & 0o007 == 0
            let mode: mode_t = secret ? (groupReads ? 0o640 : 0o600) : 0o644
            guard fchmod(fd, mode) == 0 else { throw Failure(operation: "chmod", path: temp, errno: errno) }
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure(operation: "write", path: temp, errno: errno)
                }
                written += n
            }
            guard fsync(fd) == 0 else { throw Failure(operation: "fsync", path: temp, errno: errno) }
        }
        guard link(temp, path) == 0 else {
            if errno == EEXIST { return false }
            throw Failure(operation: "link", path: path, errno: errno)
        }
        linked = true
        unlink(temp)
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw Failure(operation: "open", path: dir, errno: errno) }
        defer { close(dfd) }
        guard fsync(dfd) == 0 else { throw Failure(operation: "fsync", path: dir, errno: errno) }
        return true
    }

    /// `mkdir -p`: each new directory gets its parent's group (when allowed) and its parent's read and search
    /// bits, never write for group or others: under a root:apus 0750 directory, root:apus 0750.
    static func makeDirectories(_ path: String) throws(Failure) {
        var missing: [String] = []
        var current = path
        var info = stat()
        while stat(current, &info) != 0 {
            guard errno == ENOENT else { throw Failure(operation: "stat", path: current, errno: errno) }
            missing.append(current)
            let up = parent(of: current)
            guard up != current else { break }
            current = up
        }
        for dir in missing.reversed() {
            var parentInfo = stat()
            guard stat(parent(of: dir), &parentInfo) == 0 else { throw Failure(operation: "stat", path: parent(of: dir), errno: errno) }
            guard mkdir(dir, 0o700) == 0 else {
                if errno == EEXIST { continue }   // made meanwhile by another process: not ours to change
                throw Failure(operation: "mkdir", path: dir, errno: errno)
            }
            let fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)   // never chown through a link
            guard fd >= 0 else { throw Failure(operation: "open", path: dir, errno: errno) }
            defer { close(fd) }
            if fchown(fd, uid_t.max, parentInfo.st_gid) != 0, geteuid() == 0 {
                throw Failure(operation: "chgrp", path: dir, errno: errno)
            }
            guard fchmod(fd, 0o700 | (parentInfo.st_mode & 0o055)) == 0 else {
                throw Failure(operation: "chmod", path: dir, errno: errno)
            }
        }
    }

    /// The whole file; the errno when it cannot be opened or read.
    static func read(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "read", path: path, errno: errno)
            }
            if n == 0 { return bytes }
            bytes += chunk[..<n]
        }
    }

    /// Why `path` cannot be read, for the reload error: for EACCES, the file's owner and mode, the user the
    /// server runs as, and the fix.
    static func reason(errno code: Int32, path: String) -> String {
        guard code == EACCES || code == EPERM else { return "cannot read: \(String(cString: strerror(code)))" }
        var info = stat()
        let what = stat(path, &info) == 0
            ? "\(userName(info.st_uid)):\(groupName(info.st_gid)) 0\(String(info.st_mode & 0o7777, radix: 8)); " : ""
        return "cannot read: permission denied (\(what)the server runs as \(userName(geteuid())), group "
            + "\(groupName(getegid()))); chgrp/chmod it: see \"Ownership and permissions\" in docs/install.md"
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func userName(_ uid: uid_t) -> String {
        var entry = passwd(), result: UnsafeMutablePointer<passwd>?
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            guard getpwuid_r(uid, &entry, buffer.baseAddress!, buffer.count, &result) == 0, result != nil else {
                return String(uid)
            }
            return String(cString: entry.pw_name)
        }
    }

    static func groupName(_ gid: gid_t) -> String {
        var entry = group(), result: UnsafeMutablePointer<group>?
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            guard getgrgid_r(gid, &entry, buffer.baseAddress!, buffer.count, &result) == 0, result != nil else {
                return String(gid)
            }
            return String(cString: entry.gr_name)
        }
    }
}
