import Directory
import HTTPAPI

/// API keys from `domains/<d>/api-keys` (reloaded with the users), as the API sees them.
enum APICredentials {
    static func lookup(_ directory: DirectoryHolder) -> @Sendable (String) -> APICredential? {
        { id in
            guard let key = directory.current.apiKey(id: id) else { return nil }
            return APICredential(id: key.id, domain: key.domain, dailyLimit: key.dailyLimit,
                                 allowsSender: { key.allows(sender: $0) }, verify: { key.verify($0) })
        }
    }
}
