import Foundation

/// Changes `domains/<domain>/api-keys` for `apus key create|revoke`, the way `UserFileEditor` changes users:
/// atomically (`AtomicFile`: a new file takes its directory's group, so a root:apus tree stays readable by the
/// server), under the lock of the domain's directory, keeping comments and other lines as they are. A file
/// that does not parse is left alone and its error reported.
public enum APIKeyFileEditor {
    /// Appends `key` to its domain's file, creating the file (mode 0640) with an explanatory comment.
    /// Returns the file's path.
    @discardableResult
    public static func add(_ key: APIKey, configDirectory: String) throws -> String {
        let directory = try UserFileEditor.domainDirectory(domain: key.domain, configDirectory: configDirectory)
        let path = (directory as NSString).appendingPathComponent("api-keys")
        try AtomicFile.withLock(on: directory) {
            let exists = FileManager.default.fileExists(atPath: path)
            let text = exists ? try MailDirectory.readText(path) : APIKeysFile.header(domain: key.domain)
            let keys = try APIKeysFile.parse(text, domain: key.domain, path: path)
            if keys.contains(where: { $0.id == key.id }) {
                throw DirectoryError(path: path, reason: "a key with id \(key.id) already exists")
            }
            let separator = text.isEmpty || text.hasSuffix("\n") ? "" : "\n"
            try AtomicFile.write(text + separator + APIKeysFile.render([key]), to: path, mode: 0o640)
        }
        return path
    }

    /// Removes the line of key `id`, in whichever domain's file it is, and returns that key.
    @discardableResult
    public static func revoke(id: String, configDirectory: String) throws -> APIKey {
        let domainsPath = (configDirectory as NSString).appendingPathComponent("domains")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: domainsPath)) ?? []).sorted()
        for name in names where !name.hasPrefix(".") {
            let directory = (domainsPath as NSString).appendingPathComponent(name)
            let path = (directory as NSString).appendingPathComponent("api-keys")
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let removed: APIKey? = try AtomicFile.withLock(on: directory) {
                let text = try MailDirectory.readText(path)
                let keys = try APIKeysFile.parse(text, domain: name, path: path)
                guard let key = keys.first(where: { $0.id == id }) else { return nil }
                let kept = APIKeysFile.lines(text).filter { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).first != Substring(id) }
                try AtomicFile.write(kept.map { $0 + "\n" }.joined(), to: path)
                return key
            }
            if let removed { return removed }
        }
        throw DirectoryError(path: nil, reason: "no API key \(id) in \(domainsPath)/*/api-keys")
    }
}
