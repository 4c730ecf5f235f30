import Directory

/// chasquid users → an Apus users file: each scrypt hash kept with its own parameters in PHC form
/// (`$scrypt$ln=14,r=8,p=1$<salt>$<hash>`), so every password keeps working without anyone typing it.
extension ChasquidUserDB {
    /// The text of `domains/<domain>/users`, the names imported, and a note per user left behind.
    /// `source` names the chasquid file in notes; `aliases` are the imported [aliases] settings, which decide
    /// which names Apus can reach.
    public func apusUsersFile(domain: String, aliases: AliasSettings, source: String)
        -> (text: String, imported: [String], notes: [ImportNote]) {
        var lines: [String] = []
        var imported: [String] = []
        var notes: [ImportNote] = []
        var seen: [String: String] = [:]
        for user in users {
            let at = "\(source):\(user.line)"
            func skip(_ why: String) { notes.append(.init(.notImported, at, "user \(user.name)@\(domain): \(why)")) }
            if let why = UserName.problem(user.name, aliases: aliases) { skip(why); continue }
            let key = aliases.normalize(localPart: user.name)
            if let other = seen[key] { skip("the same address as \(other) once drop characters are removed"); continue }
            switch user.password {
            case .scrypt(let s):
                guard s.keyLen == s.encrypted.count else {
                    skip("keyLen \(s.keyLen) but the hash has \(s.encrypted.count) bytes: chasquid could not have verified it either")
                    continue
                }
                let hash = PasswordHash(logN: s.logN, blockSize: s.r, parallelism: s.p, salt: s.salt, hash: s.encrypted)
                do {
                    _ = try PasswordHash.parse(hash.phcString)
                } catch let error as DirectoryError {
                    skip("\(error.reason); set a new password with `apus user passwd \(user.name)@\(domain)`")
                    continue
                } catch {
                    skip("\(error)")
                    continue
                }
                lines.append("\(user.name)  \(hash.phcString)")
                imported.append(user.name)
                seen[key] = user.name
            case .plain:
                skip("a plain-text password (not imported, never guessed): set one with `apus user add \(user.name)@\(domain)`")
            case .denied:
                skip("denied in chasquid (exists, cannot log in); Apus has no such user: add an alias if it should still receive mail")
            case .unknown(let scheme):
                skip(scheme.isEmpty ? "no password scheme" : "unknown password scheme \"\(scheme)\"")
            }
        }
        let header = """
            # Users of \(domain), imported from chasquid (\(source)) with their scrypt hashes as they were:
            # each password keeps working. Manage them with `apus user add|remove|passwd NAME@\(domain)`.

            """
        return (header + lines.map { $0 + "\n" }.joined(), imported, notes)
    }
}
