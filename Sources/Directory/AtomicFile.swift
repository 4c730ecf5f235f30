#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replacing a file so that a crash leaves either the old or the new contents, never a mix (STYLE.md §8):
/// write a temporary file in the same directory, fsync it, rename it over the target, fsync the directory.
enum AtomicFile {
    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Writes `text` to `path` atomically, with `mode` (the old file's mode, owner and group are kept when it
    /// exists; a new file gets the group of its directory).
    static func write(_ text: String, to path: String, mode defaultMode: mode_t = 0o640) throws {
        let directory = parentDirectory(of: path)
        var mode = defaultMode
        var old = stat()
        if stat(path, &old) == 0 { mode = old.st_mode & 0o7777 }

        var random = SystemRandomNumberGenerator()
        let temp = "\(directory)/.\(baseName(of: path)).tmp.\(getpid()).\(random.next() as UInt32)"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw DirectoryError(path: temp, reason: "cannot create: \(errnoText())") }
        var ok = false
        defer { if !ok { unlink(temp) } }
        do {
            defer { close(fd) }
            _ = fchmod(fd, mode)  // open() applies the umask
            if stat(path, &old) == 0 {
                if getuid() == 0 { _ = fchown(fd, old.st_uid, old.st_gid) }
            } else {
                // A new file takes its directory's group (as ConfigFile does): in a root:apus tree the
                // server reads it through that group. Allowed for root, or a member of that group.
                var parent = stat()
                if stat(directory, &parent) == 0 { _ = fchown(fd, uid_t.max, parent.st_gid) }
            }
            let bytes = Array(text.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + written, bytes.count - written) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DirectoryError(path: temp, reason: "cannot write: \(errnoText())")
                }
                written += n
            }
            guard fsync(fd) == 0 else { throw DirectoryError(path: temp, reason: "fsync failed: \(errnoText())") }
        }
        guard rename(temp, path) == 0 else {
            throw DirectoryError(path: path, reason: "cannot replace: \(errnoText())")
        }
        ok = true
        try syncDirectory(directory)
    }

    static func syncDirectory(_ directory: String) throws {
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw DirectoryError(path: directory, reason: "cannot open: \(errnoText())") }
        defer { close(dfd) }
        guard fsync(dfd) == 0 else { throw DirectoryError(path: directory, reason: "fsync failed: \(errnoText())") }
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

@inline(__always)
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
