import Crypto
import Foundation

/// One-click unsubscribe links (RFC 8058, RFC 2369): `<public_url>/unsubscribe/<token>`, where the token names
/// the sender domain and the recipient and carries an HMAC-SHA256 over both, so it cannot be forged or altered
/// (a changed character answers 404). The secret lives in `<data_dir>/state/unsubscribe.secret`.
///
/// Token: base64url("1\0<domain>\0<recipient>") "." base64url(first 16 bytes of HMAC(secret, payload)).
public struct UnsubscribeLinks: Sendable {
    public let publicURL: String
    let key: SymmetricKey

    public init(publicURL: String, secret: [UInt8]) {
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        self.publicURL = base
        self.key = SymmetricKey(data: secret)
    }

    public func token(domain: String, recipient: String) -> String {
        let payload = Array("1\u{0}\(domain.lowercased())\u{0}\(recipient)".utf8)
        return Self.base64url(payload) + "." + Self.base64url(mac(payload))
    }

    public func url(domain: String, recipient: String) -> String {
        "\(publicURL)/unsubscribe/\(token(domain: domain, recipient: recipient))"
    }

    /// The `mailto:` form (RFC 2369) for clients without one-click: a message to `unsubscribe@<domain>` with the
    /// token as its subject does what the POST does.
    public func mailto(domain: String, recipient: String) -> String {
        "mailto:\(Self.mailbox)@\(domain.lowercased())?subject=\(token(domain: domain, recipient: recipient))"
    }

    /// The local part that receives `mailto:` unsubscribe requests in every local domain.
    public static let mailbox = "unsubscribe"

    /// The (domain, recipient) a valid token names, or nil.
    public func verify(_ token: String) -> (domain: String, recipient: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Self.decode(parts[0]), let tag = Self.decode(parts[1]),
              tag.count == 16, Self.constantTimeEqual(tag, mac(payload)) else { return nil }
        let fields = payload.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard fields.count == 3, fields[0] == "1", !fields[1].isEmpty, !fields[2].isEmpty else { return nil }
        // Canonical form only: a token that decodes to the same payload with other padding bits is refused.
        guard Self.base64url(payload) == parts[0], Self.base64url(tag) == parts[1] else { return nil }
        return (fields[1], fields[2])
    }

    func mac(_ payload: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: payload, using: key)).prefix(16).map { $0 }
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        guard !text.isEmpty, text.allSatisfy({ $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "-" || $0 == "_" }) else { return nil }
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
