import Foundation

/// Changes `domains/<domain>/users` for `apus user add|remove|passwd`: atomically (see `AtomicFile`), under a
/// lock on the domain's directory, keeping comments, blank lines and other users' lines exactly as they are.
/// A users file that does not parse is left alone: the error is reported instead.
public enum UserFileEditor {
    /// Adds `user` with the hash `phc`. The domain's directory must exist; the user must not.
    public static func add(user: String, domain: String, phc: String, configDirectory: String,
                           aliases: AliasSettings = AliasSettings()) throws {
        try validate(user: user, phc: phc, aliases: aliases)
        try edit(domain: domain, configDirectory: configDirectory, aliases: aliases) { file, domainName in
            let key = aliases.normalize(localPart: user)
            if let existing = file.entries.first(where: { aliases.normalize(localPart: $0.name) == key }) {
                throw DirectoryError(path: file.path, line: existing.line,
                                     reason: existing.name == user ? "user \(user)@\(domainName) already exists"
                                     : "user \"\(existing.name)\" already receives the mail of \(user)@\(domainName) (drop characters are ignored)")
            }
            file.lines.append(Substring("\(user)  \(phc)"))
        }
    }

    /// Removes `user`'s line.
    public static func remove(user: String, domain: String, configDirectory: String,
                              aliases: AliasSettings = AliasSettings()) throws {
        try edit(domain: domain, configDirectory: configDirectory, aliases: aliases) { file, domainName in
            guard let entry = file.entries.first(where: { $0.name == user }) else {
                throw DirectoryError(path: file.path, reason: "no user \(user)@\(domainName)")
            }
            file.lines.remove(at: entry.line - 1)
        }
    }

    /// Replaces `user`'s password hash.
    public static func setPassword(user: String, domain: String, phc: String, configDirectory: String,
                                   aliases: AliasSettings = AliasSettings()) throws {
        try validate(user: user, phc: phc, aliases: aliases)
        try edit(domain: domain, configDirectory: configDirectory, aliases: aliases) { file, domainName in
            guard let entry = file.entries.first(where: { $0.name == user }) else {
                throw DirectoryError(path: file.path, reason: "no user \(user)@\(domainName)")
            }
            file.lines[entry.line - 1] = Substring("\(user)  \(phc)")
        }
    }

    static func validate(user: String, phc: String, aliases: AliasSettings) throws {
        if let why = UserName.problem(user, aliases: aliases) { throw DirectoryError(path: nil, reason: why) }
        _ = try PasswordHash.parse(phc)
    }

    /// The directory of `domain` under `<config>/domains/` (matched case-insensitively), or an error.
    public static func domainDirectory(domain: String, configDirectory: String) throws -> String {
        let domainsPath = (configDirectory as NSString).appendingPathComponent("domains")
        let wanted = MailDirectory.key(domain)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: domainsPath)) ?? []
        var isDir: ObjCBool = false
        for name in names where !name.hasPrefix(".") && name.lowercased() == wanted {
            let path = (domainsPath as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { return path }
        }
        throw DirectoryError(path: (domainsPath as NSString).appendingPathComponent(wanted),
                             reason: "unknown domain \(wanted), create it with `apus init \(wanted)`")
    }

    static func edit(domain: String, configDirectory: String, aliases: AliasSettings,
                     _ change: (inout UsersFile, String) throws -> Void) throws {
        let directory = try domainDirectory(domain: domain, configDirectory: configDirectory)
        let path = (directory as NSString).appendingPathComponent("users")
        try AtomicFile.withLock(on: directory) {
            let text = FileManager.default.fileExists(atPath: path) ? try MailDirectory.readText(path) : ""
            var file = try UsersFile.parse(text, path: path, aliases: aliases)
            try change(&file, MailDirectory.key(domain))
            try AtomicFile.write(file.text, to: path)
        }
    }
}
