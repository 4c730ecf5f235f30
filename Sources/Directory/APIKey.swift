import Crypto
import Foundation

/// One key of the HTTP send API (DESIGN.md §3, §3c), as `domains/<domain>/api-keys` stores it: only a hash
/// of the secret, which `apus key create` shows once. A key is scoped to its domain and, when `senders` is not
/// empty, to those addresses.
public struct APIKey: Sendable, Hashable {
    /// 12 lowercase hex characters; also the middle of the secret (`apus_<id>_…`), so a presented key finds
    /// its line without trying every hash.
    public var id: String
    /// The local domain, lowercased.
    public var domain: String
    /// `sha256:<64 hex>` of the whole secret string.
    public var hash: String
    /// Addresses the key may send as; empty: any address of `domain`.
    public var senders: [String]
    public var name: String?
    /// Messages per day past which the API answers 429; nil: no limit.
    public var dailyLimit: Int?
    public var created: Date?

    public init(id: String, domain: String, hash: String, senders: [String] = [], name: String? = nil,
                dailyLimit: Int? = nil, created: Date? = nil) {
        self.id = id
        self.domain = domain
        self.hash = hash
        self.senders = senders
        self.name = name
        self.dailyLimit = dailyLimit
        self.created = created
    }

    static let hashPrefix = "sha256:"

    /// `sha256:<hex>` of a secret.
    static func hash(of secret: String) -> String {
        hashPrefix + Hex.encode(Array(SHA256.hash(data: Array(secret.utf8))))
    }

    /// Whether `presented` is this key's secret: SHA-256 of it compared with the stored hash in time that
    /// does not depend on where they differ (the hash is a secret's only trace; leak none of it).
    public func verify(_ presented: String) -> Bool {
        guard hash.hasPrefix(Self.hashPrefix), let stored = Hex.decode(hash.dropFirst(Self.hashPrefix.count)),
              stored.count == SHA256.byteCount else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(SHA256.hash(data: Array(presented.utf8)), stored) { difference |= a ^ b }
        return difference == 0
    }

    /// Whether the key may send as `sender`: the address is in the key's domain (case-insensitive, a final
    /// dot ignored) and, when the key names senders, one of them (case-insensitive).
    public func allows(sender: String) -> Bool {
        guard let at = sender.lastIndex(of: "@"), at != sender.startIndex else { return false }
        guard MailDirectory.key(String(sender[sender.index(after: at)...])) == MailDirectory.key(domain) else { return false }
        let wanted = sender.lowercased()
        return senders.isEmpty || senders.contains { $0.lowercased() == wanted }
    }
}
