import Foundation

/// Replacing a file so that a reader sees the old or the new contents, never a mix: a temporary file in
/// the same directory, fsync, rename, fsync of the directory. Run as root, a new file takes the owner
/// and group of its directory, so `apus cert renew` run by root writes files `apus serve` can read.
enum FileWriter {
    static func replace(_ path: String, contents: [UInt8], mode: mode_t) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try makeDirectories(directory)
        let temp = "\(directory)/.\((path as NSString).lastPathComponent).tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ACMEError("cannot create \(temp): \(String(cString: strerror(errno)))") }
        var ok = false
        defer { if !ok { unlink(temp) } }
        do {
            defer { close(fd) }
            _ = fchmod(fd, mode)
            var dir = stat()
            if getuid() == 0, stat(directory, &dir) == 0 { _ = fchown(fd, dir.st_uid, dir.st_gid) }
            var written = 0
            while written < contents.count {
                let n = contents.withUnsafeBytes { write(fd, $0.baseAddress! + written, contents.count - written) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ACMEError("cannot write \(temp): \(String(cString: strerror(errno)))")
                }
                written += n
            }
            guard fsync(fd) == 0 else { throw ACMEError("fsync \(temp): \(String(cString: strerror(errno)))") }
        }
        guard rename(temp, path) == 0 else {
            throw ACMEError("cannot replace \(path): \(String(cString: strerror(errno)))")
        }
        ok = true
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Creates missing directories (0750; as root, with the owner and group of the parent).
    static func makeDirectories(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path { try makeDirectories(parent) }
        if mkdir(path, 0o750) != 0 && errno != EEXIST {
            throw ACMEError("cannot create directory \(path): \(String(cString: strerror(errno)))")
        }
        var owner = stat()
        if getuid() == 0, stat(parent, &owner) == 0 { _ = chown(path, owner.st_uid, owner.st_gid) }
    }
}
