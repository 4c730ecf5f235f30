import Foundation

// Key files on disk (DESIGN.md §3): `<config>/domains/<domain>/dkim/<selector>.pem`, PKCS#8 PEM, mode 0600.
// The selector is the file name without `.pem`. This is the module's only file I/O.

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

    /// Every key of the domain, sorted by selector. No directory means no keys.
    public static func load(configDirectory: String, domain: String) throws(DKIMKeyStoreError) -> [DKIMSigningKey] {
        let dir = directory(configDirectory: configDirectory, domain: domain)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir)
        } catch {
            if !FileManager.default.fileExists(atPath: dir) { return [] }
            throw .unreadable(path: dir, reason: "\(error.localizedDescription)")
        }
        var keys: [DKIMSigningKey] = []
        for name in names.sorted() where name.hasSuffix(".pem") && name.count > 4 {
            let path = "\(dir)/\(name)"
            let pem: String
            do { pem = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw .unreadable(path: path, reason: "\(error.localizedDescription)")
            }
            do {
                keys.append(try DKIMSigningKey(pem: pem, domain: domain.lowercased(), selector: String(name.dropLast(4))))
            } catch {
                throw .invalidKey(path: path, error)
            }
        }
        return keys
    }

    /// Writes a new key file with mode 0600, creating directories; refuses to replace an existing file.
    @discardableResult
    public static func write(_ key: DKIMSigningKey, configDirectory: String) throws(DKIMKeyStoreError) -> String {
        let dir = directory(configDirectory: configDirectory, domain: key.domain)
        let path = path(configDirectory: configDirectory, domain: key.domain, selector: key.selector)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: dir, reason: "\(error.localizedDescription)")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd < 0 {
            if errno == EEXIST { throw .alreadyExists(path: path) }
            throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let bytes = Array((key.pkcs8PEM + (key.pkcs8PEM.hasSuffix("\n") ? "" : "\n")).utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            written += n
        }
        if fsync(fd) != 0 { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        return path
    }
}
