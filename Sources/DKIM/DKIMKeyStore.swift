import ConfigFiles
import Foundation

// Key files on disk (DESIGN.md §3): `<config>/domains/<domain>/dkim/<selector>.pem`, PKCS#8 PEM.
// The selector is the file name without `.pem`. This is the module's only file I/O.
//
// Ownership (docs/install.md, "Ownership and permissions"; the rules are in ConfigFiles): a key written as
// root gets the group of its directory, mode 0640 when that directory is closed to others, else 0600; new
// directories take their parent's group and read/search bits. Existing files and directories are never changed.

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
        let (keys, problems) = try loadUsable(configDirectory: configDirectory, domain: domain)
        if let first = problems.first { throw first }
        return keys
    }

    /// The keys that load, and one error per key file that does not: for signing, where one bad or
    /// half-copied file must not leave the domain's mail unsigned. Only an unreadable directory throws.
    public static func loadUsable(configDirectory: String, domain: String) throws(DKIMKeyStoreError)
        -> (keys: [DKIMSigningKey], problems: [DKIMKeyStoreError]) {
        let dir = directory(configDirectory: configDirectory, domain: domain)
        var info = stat()
        if stat(dir, &info) != 0 {
            if errno == ENOENT { return ([], []) }
            throw .unreadable(path: dir, reason: ConfigFile.unreadableReason(errno: errno, path: dir))
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir)
        } catch {
            let reason = access(dir, R_OK | X_OK) != 0
                ? ConfigFile.unreadableReason(errno: errno, path: dir) : "\(error)"
            throw .unreadable(path: dir, reason: reason)
        }
        var keys: [DKIMSigningKey] = []
        var problems: [DKIMKeyStoreError] = []
        for name in names.sorted() where name.hasSuffix(".pem") && name.count > 4 {
            let path = "\(dir)/\(name)"
            let bytes: [UInt8]
            do { bytes = try ConfigFile.read(path) } catch {
                problems.append(.unreadable(path: path, reason: ConfigFile.unreadableReason(errno: error.errno, path: path)))
                continue
            }
            do {
                keys.append(try DKIMSigningKey(pem: String(decoding: bytes, as: UTF8.self), domain: domain.lowercased(),
                                               selector: String(name.dropLast(4))))
            } catch {
                problems.append(.invalidKey(path: path, error))
            }
        }
        return (keys, problems)
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
            created = try ConfigFile.createSecret(path, contents: bytes)
        } catch {
            throw .writeFailed(path: error.path, reason: "\(error.operation): \(String(cString: strerror(error.errno)))")
        }
        guard created else { throw .alreadyExists(path: path) }
        return path
    }
}
