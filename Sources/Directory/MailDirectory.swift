import Foundation

/// The outcome of checking a user name and password.
public enum AuthResult: Sendable, Hashable {
    /// The password is right; `user` and `domain` are the stored (canonical) names.
    case success(user: String, domain: String)
    /// Unknown user, unknown domain, malformed name or wrong password: deliberately not told apart.
    case failure

    /// `user@domain` on success.
    public var address: String? {
        if case .success(let user, let domain) = self { return "\(user)@\(domain)" }
        return nil
    }
}

/// What the SMTP session asks about domains and users; `MailDirectory` is the real one, tests may use another.
public protocol UserStore: Sendable {
    func isLocalDomain(_ domain: String) -> Bool
    func canonicalUser(localPart: String, domain: String) -> String?
    /// Slow on purpose (scrypt): call it off the event loop.
    func authenticate(username: String, password: String) -> AuthResult
}

/// A snapshot of the local domains and their users, read from `<config>/domains/`.
public struct MailDirectory: UserStore, Sendable, Equatable {
    struct Domain: Sendable, Equatable {
        /// `<config>/domains/<name as on disk>`.
        var directory: String
        /// name → PHC string.
        var users: [String: String]
        /// normalized name (drop characters removed) → name.
        var normalized: [String: String]
        /// Alias name (lowercased; `*` for the catch-all) → its line of `domains/<domain>/aliases`.
        var aliasTable: [String: AliasEntry] = [:]
        /// Normalized alias name → alias name; the first in the file wins.
        var normalizedAliases: [String: String] = [:]
    }

    /// Lowercased domain → its users.
    var domainTable: [String: Domain]
    /// Key id → API key, from every `domains/<domain>/api-keys`.
    var apiKeyTable: [String: APIKey] = [:]
    public let aliases: AliasSettings
    /// Checked for unknown users, with the parameters of a real hash so it costs the same.
    let dummyHash: PasswordHash

    /// An empty directory (no local domains).
    public init(aliases: AliasSettings = AliasSettings()) {
        self.domainTable = [:]
        self.aliases = aliases
        self.dummyHash = PasswordHash(logN: PasswordHash.defaultLogN, salt: [UInt8](repeating: 0x5A, count: 16),
                                      hash: [UInt8](repeating: 0, count: 32))
    }

    /// Reads every `domains/<domain>/users`, `aliases` and `api-keys`. A missing `domains/` directory means no local domains; a domain
    /// directory without a users file has no users. Hidden entries (`.name`) and plain files are skipped.
    public static func load(configDirectory: String, aliases: AliasSettings = AliasSettings()) throws -> MailDirectory {
        var directory = MailDirectory(aliases: aliases)
        let domainsPath = (configDirectory as NSString).appendingPathComponent("domains")
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: domainsPath, isDirectory: &isDir) else { return directory }
        guard isDir.boolValue else { throw DirectoryError(path: domainsPath, reason: "not a directory") }
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: domainsPath).sorted()
        } catch {
            throw DirectoryError(path: domainsPath, reason: "cannot read: \(error.localizedDescription)")
        }
        var someHash: PasswordHash?
        for name in names where !name.hasPrefix(".") {
            let domainDir = (domainsPath as NSString).appendingPathComponent(name)
            guard fm.fileExists(atPath: domainDir, isDirectory: &isDir), isDir.boolValue else { continue }
            let domain = name.lowercased()
            if let other = directory.domainTable[domain] {
                throw DirectoryError(path: domainDir, reason: "the same domain as \(other.directory); keep one of them")
            }
            var entry = Domain(directory: domainDir, users: [:], normalized: [:])
            let usersPath = (domainDir as NSString).appendingPathComponent("users")
            if fm.fileExists(atPath: usersPath) {
                let file = try UsersFile.parse(try readText(usersPath), path: usersPath, aliases: aliases)
                for user in file.entries {
                    entry.users[user.name] = user.phc
                    entry.normalized[aliases.normalize(localPart: user.name)] = user.name
                    if someHash == nil { someHash = try? PasswordHash.parse(user.phc) }
                }
            }
            let aliasesPath = (domainDir as NSString).appendingPathComponent("aliases")
            if fm.fileExists(atPath: aliasesPath) {
                let file = try AliasesFile.parse(try readText(aliasesPath), path: aliasesPath, domain: domain)
                for alias in file.entries {
                    entry.aliasTable[alias.name] = alias
                    // A name with a suffix separator (`bob+sales`) is only reached exactly.
                    if alias.name != "*", !alias.name.contains(where: { aliases.suffixSeparators.contains($0) }) {
                        let key = aliases.normalize(localPart: alias.name)
                        if entry.normalizedAliases[key] == nil { entry.normalizedAliases[key] = alias.name }
                    }
                }
            }
            directory.domainTable[domain] = entry
            try loadAPIKeys(domainDirectory: domainDir, domain: domain, into: &directory.apiKeyTable)
        }
        if let someHash {
            let keys = directory.apiKeyTable
            directory = MailDirectory(domainTable: directory.domainTable, aliases: aliases, dummyHash: someHash.dummy())
            directory.apiKeyTable = keys
        }
        return directory
    }

    /// Adds the keys of `<domainDirectory>/api-keys`, if the file exists; an id already taken is an error.
    static func loadAPIKeys(domainDirectory: String, domain: String, into table: inout [String: APIKey]) throws {
        let path = (domainDirectory as NSString).appendingPathComponent("api-keys")
        guard FileManager.default.fileExists(atPath: path) else { return }
        for key in try APIKeysFile.parse(try readText(path), domain: domain, path: path) {
            if let other = table[key.id] {
                throw DirectoryError(path: path, reason: "key id \(key.id) is also a key of \(other.domain); revoke one of them")
            }
            table[key.id] = key
        }
    }

    /// The API key with this id (`APIKeySecret.keyID(of:)` of the presented secret), or nil.
    public func apiKey(id: String) -> APIKey? { apiKeyTable[id] }

    /// The key whose secret `presented` is (a bearer token as received), or nil: malformed, unknown, revoked
    /// or wrong. An unknown id costs one SHA-256 like a known one, so timing tells nothing about which ids exist.
    public func apiKey(presented: String) -> APIKey? {
        let key = APIKeySecret.keyID(of: presented).flatMap { apiKeyTable[$0] }
        let checked = key ?? APIKey(id: "", domain: "", hash: APIKey.hashPrefix + String(repeating: "0", count: 64))
        return checked.verify(presented) && key != nil ? key : nil
    }

    /// The API keys of `domain` (every domain when nil), by domain, then creation time, then id.
    public func apiKeys(in domain: String? = nil) -> [APIKey] {
        let wanted = domain.map(Self.key)
        return apiKeyTable.values.filter { wanted == nil || $0.domain == wanted }.sorted { a, b in
            if a.domain != b.domain { return a.domain < b.domain }
            let (createdA, createdB) = (a.created ?? .distantPast, b.created ?? .distantPast)
            return createdA != createdB ? createdA < createdB : a.id < b.id
        }
    }

    init(domainTable: [String: Domain], aliases: AliasSettings, dummyHash: PasswordHash) {
        self.domainTable = domainTable
        self.aliases = aliases
        self.dummyHash = dummyHash
    }

    /// The local domains, lowercased and sorted.
    public var domains: [String] { domainTable.keys.sorted() }

    /// Whether `domain` is local: compared lowercased, a final dot ignored.
    /// TODO: U-label/A-label equivalence (IDNA) once SMTPProtocol offers the conversion.
    public func isLocalDomain(_ domain: String) -> Bool {
        domainTable[Self.key(domain)] != nil
    }

    /// The user a recipient local part reaches, or nil: the lowercased local part if it is a user's name,
    /// else the local part with the suffix (from the first separator) and then the drop characters removed.
    public func canonicalUser(localPart: String, domain: String) -> String? {
        guard let entry = domainTable[Self.key(domain)] else { return nil }
        let lower = localPart.lowercased()
        if entry.users[lower] != nil { return lower }
        return entry.normalized[aliases.normalize(localPart: localPart)]
    }

    /// The PHC string of a user (the stored name, as returned by `canonicalUser`).
    public func passwordHash(user: String, domain: String) -> String? {
        domainTable[Self.key(domain)]?.users[user.lowercased()]
    }

    /// The users of a domain, sorted; empty for an unknown domain.
    public func users(in domain: String) -> [String] {
        domainTable[Self.key(domain)]?.users.keys.sorted() ?? []
    }

    /// Every user as `user@domain`, sorted by domain, then user.
    public var addresses: [String] {
        domains.flatMap { domain in users(in: domain).map { "\($0)@\(domain)" } }
    }

    /// Checks a password for `user@domain` (or a bare `user` when there is exactly one local domain). The
    /// user name is compared lowercased, without suffix or drop-character removal. An unknown user costs the
    /// same scrypt work as a known one. Slow on purpose: call it off the event loop.
    public func authenticate(username: String, password: String) -> AuthResult {
        var user = username.lowercased()
        var domain: String
        if let at = user.lastIndex(of: "@") {
            domain = Self.key(String(user[user.index(after: at)...]))
            user = String(user[..<at])
        } else if domainTable.count == 1 {
            domain = domainTable.keys.first!
        } else {
            domain = ""
        }
        guard let phc = domainTable[domain]?.users[user], let hash = try? PasswordHash.parse(phc) else {
            _ = dummyHash.verify(password: password)
            return .failure
        }
        return hash.verify(password: password) ? .success(user: user, domain: domain) : .failure
    }

    static func key(_ domain: String) -> String {
        // Most names come lowercased already (the SMTP layer's lookup keys): then no copy is made.
        if !domain.utf8.contains(where: { ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || $0 >= 0x80 }),
           domain.utf8.last != UInt8(ascii: ".") {
            return domain
        }
        var d = domain.lowercased()
        if d.hasSuffix(".") { d.removeLast() }
        return d
    }

    static func readText(_ path: String) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DirectoryError(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DirectoryError(path: path, reason: "not valid UTF-8")
        }
        return text
    }
}
