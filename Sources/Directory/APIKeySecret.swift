import Foundation

/// The secret of an API key, as the application presents it (`Authorization: Bearer <secret>`):
///
/// ```
/// apus_3f9c0a51d2e4_Vq3Jk0…(43 characters)
///      └─ id ─────┘ └─ 32 random bytes, base64url without padding (RFC 4648 §5)
/// ```
/// The `apus_` prefix lets secret scanners spot a leaked key; the id finds the key's line; the 256 random
/// bits are what makes it secret. Only `APIKey.hash` (SHA-256 of the whole string) is ever stored.
public enum APIKeySecret {
    static let prefix = "apus_"
    static let randomBytes = 32
    static let randomLength = 43

    /// A new key for `domain` with its secret; the secret is shown once and then exists only with its holder.
    public static func generate(domain: String, name: String?, senders: [String], dailyLimit: Int?, now: Date) -> (secret: String, key: APIKey) {
        var rng = SystemRandomNumberGenerator()
        return generate(domain: domain, name: name, senders: senders, dailyLimit: dailyLimit, now: now, using: &rng)
    }

    /// As above with a given source of randomness (tests); real keys need a cryptographic one.
    static func generate(domain: String, name: String?, senders: [String], dailyLimit: Int?, now: Date,
                         using rng: inout some RandomNumberGenerator) -> (secret: String, key: APIKey) {
        let id = Hex.encode((0..<6).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let random = (0..<randomBytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let secret = prefix + id + "_" + base64url(random)
        let created = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let key = APIKey(id: id, domain: MailDirectory.key(domain), hash: APIKey.hash(of: secret), senders: senders,
                         name: name, dailyLimit: dailyLimit, created: created)
        return (secret, key)
    }

    /// The id inside a secret of the form above, or nil when `secret` does not have that form.
    public static func keyID(of secret: String) -> String? {
        let bytes = Array(secret.utf8)
        guard bytes.count == prefix.utf8.count + 12 + 1 + randomLength, secret.hasPrefix(prefix) else { return nil }
        let id = String(decoding: bytes[5..<17], as: UTF8.self)
        guard APIKeysFile.isKeyID(id), bytes[17] == UInt8(ascii: "_"),
              bytes[18...].allSatisfy({ Self.isBase64url($0) }) else { return nil }
        return id
    }

    static func isBase64url(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
