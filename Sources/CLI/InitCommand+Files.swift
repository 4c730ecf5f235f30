#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The files `apus init` writes: created only when missing (O_EXCL), never replaced.
extension InitCommand {
    static func absolute(_ path: String) -> String {
        var result = URL(fileURLWithPath: path).standardizedFileURL.path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }

    /// `mkdir -p`. Each directory made gets its parent's group and its parent's read/search bits, never write
    /// for group or others: a second domain in a root:apus 0750 tree (docs/install.md) is root:apus 0750 too,
    /// as DKIMKeyStore and SelfSignedCertificate make theirs. Existing directories are not changed.
    static func makeDirectory(_ path: String) throws {
        var missing: [String] = []
        var current = absolute(path)
        var info = stat()
        while stat(current, &info) != 0 {
            guard errno == ENOENT else { throw CLIError("cannot create \(path): \(current): \(String(cString: strerror(errno)))") }
            missing.append(current)
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { break }
            current = parent
        }
        for dir in missing.reversed() {
            let parent = (dir as NSString).deletingLastPathComponent
            var parentInfo = stat()
            guard stat(parent, &parentInfo) == 0 else { throw CLIError("cannot create \(dir): \(parent): \(String(cString: strerror(errno)))") }
            guard mkdir(dir, 0o700) == 0 else {
                if errno == EEXIST { continue }   // made meanwhile by another process
                throw CLIError("cannot create \(dir): \(String(cString: strerror(errno)))")
            }
            let fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)   // never chown through a link
            guard fd >= 0 else { throw CLIError("cannot open \(dir): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            // Root may give any group; another user only one of its own (then the directory keeps its group).
            if fchown(fd, uid_t.max, parentInfo.st_gid) != 0, geteuid() == 0 {
                throw CLIError("cannot set the group of \(dir): \(String(cString: strerror(errno)))")
            }
            guard fchmod(fd, 0o700 | (parentInfo.st_mode & 0o055)) == 0 else {
                throw CLIError("cannot set the mode of \(dir): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Creates `path` with `contents` unless it exists (O_EXCL); true when created. Written and fsync'd. The
    /// file gets the group of its directory, so that in a root:apus tree the server can read the users file.
    static func createFile(_ path: String, contents: String, mode: mode_t) throws -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var ok = false
        defer { if !ok { unlink(path) } }
        defer { close(fd) }
        var directory = stat()
        if stat((path as NSString).deletingLastPathComponent, &directory) == 0,
           fchown(fd, uid_t.max, directory.st_gid) != 0, geteuid() == 0 {
            throw CLIError("cannot set the group of \(path): \(String(cString: strerror(errno)))")
        }
        _ = fchmod(fd, mode)   // open() applied the umask
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
        ok = true
        return true
    }

    /// Whether this user can create files in `path`: it is a writable directory, or its nearest existing
    /// ancestor is.
    static func canCreate(_ path: String) -> Bool {
        var current = path
        while !FileManager.default.fileExists(atPath: current) {
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { return false }
            current = parent
        }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: current, isDirectory: &isDirectory) && isDirectory.boolValue
            && access(current, W_OK | X_OK) == 0
    }

    static func usersFileText(domain: String) -> String {
        """
        # Users of \(domain): one a line, the name, then its scrypt password hash:
        #   alice  $scrypt$ln=15,r=8,p=1$<salt>$<hash>
        # Manage them with `apus user add|remove|passwd NAME@\(domain)` rather than by hand.

        """
    }

    static func aliasesFileText(domain: String, user: String?) -> String {
        let you = user ?? "alice"
        return """
            # Aliases of \(domain): `name: target, target…`, one alias a line. Lines starting with # are
            # comments. A target without @ is a user or alias of \(domain); an address elsewhere is forwarded
            # (its sender rewritten with SRS so the receiver's SPF check passes). Examples:
            #
            #   info: \(you)                       info@\(domain) reaches the user \(you)
            #   sales: \(you), bob@example.org      several targets
            #   postmaster: \(you)                 postmaster@ gets the DMARC and TLS reports; without an alias
            #                                     (or catch-all) they go to the mailbox "postmaster"
            #   list: | /usr/local/bin/handler    pipe each message to a command (run with /bin/sh -c)
            #   *: someone@gmail.com              catch-all: every address of \(domain) that is not a user or
            #                                     an alias (used only when nothing else matches)
            #
            # Before the lookup, "." is removed from the name and "+" starts an ignored suffix (settings in
            # [aliases] of apus.toml): j.doe+news@\(domain) reaches jdoe. The server reads this file at start
            # and on SIGHUP; `apus alias resolve ADDRESS` shows where an address goes.

            """
    }
}
