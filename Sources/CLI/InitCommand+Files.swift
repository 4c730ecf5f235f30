#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ConfigFiles
import Foundation

/// The files `apus init` writes: created only when missing (O_EXCL), never replaced.
extension InitCommand {
    static func absolute(_ path: String) -> String {
        var result = URL(fileURLWithPath: path).standardizedFileURL.path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }

    /// `mkdir -p` (`ConfigFile.makeDirectories`): each directory made gets its parent's group and read/search
    /// bits, never write for group or others, so a second domain in a root:apus 0750 tree (docs/install.md) is
    /// root:apus 0750 too. Existing directories are not changed.
    static func makeDirectory(_ path: String) throws {
        do { try ConfigFile.makeDirectories(absolute(path)) } catch {
            let why = String(cString: strerror(error.errno))
            switch error.operation {
            case .stat: throw CLIError("cannot create \(path): \(error.path): \(why)")
            case .open: throw CLIError("cannot open \(error.path): \(why)")
            case .chgrp: throw CLIError("cannot set the group of \(error.path): \(why)")
            case .chmod: throw CLIError("cannot set the mode of \(error.path): \(why)")
            default: throw CLIError("cannot create \(error.path): \(why)")
            }
        }
    }

    /// Creates `path` with `contents` unless it exists (O_EXCL); true when created. Written and fsync'd. The
    /// file gets the group of its directory, so that in a root:apus tree the server can read the users file.
    static func createFile(_ path: String, contents: String, mode: mode_t) throws -> Bool {
        do { return try ConfigFile.createNew(path, contents: Array(contents.utf8), mode: mode) } catch {
            let why = String(cString: strerror(error.errno))
            switch error.operation {
            case .create: throw CLIError("cannot create \(path): \(why)")
            case .chgrp: throw CLIError("cannot set the group of \(path): \(why)")
            default: throw CLIError("cannot write \(path): \(why)")
            }
        }
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
