import Crypto
import Foundation

/// JSON Web Signature in the flattened JSON form ACME uses (RFC 8555 §6.2), signed with ES256 (P-256).
/// Pure: the nonce, URL and key come from the caller.
public struct JWS: Sendable {
    public let key: P256.Signing.PrivateKey

    public init(key: P256.Signing.PrivateKey) { self.key = key }

    /// The public key as a JWK with its members in the lexicographic order RFC 7638 §3 requires for the
    /// thumbprint, so the same text serves both.
    public var jwk: String {
        let raw = key.publicKey.x963Representation   // 0x04 || X || Y
        let x = Base64URL.encode(raw[1..<33]), y = Base64URL.encode(raw[33..<65])
        return #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
    }

    /// RFC 7638 thumbprint: base64url(SHA-256(JWK)).
    public var thumbprint: String { Base64URL.encode(SHA256.hash(data: Array(jwk.utf8))) }

    /// The key authorization for a challenge token (RFC 8555 §8.1).
    public func keyAuthorization(token: String) -> String { "\(token).\(thumbprint)" }

    /// A signed request body. `kid` is the account URL; without it the JWK is embedded (new-account).
    /// A nil payload is the empty string: POST-as-GET (RFC 8555 §6.3).
    public func sign(url: String, nonce: String, kid: String?, payload: String?) throws -> Data {
        let keyMember = kid.map { #""kid":\#(JSONText.quote($0))"# } ?? #""jwk":\#(jwk)"#
        let protected = #"{"alg":"ES256",\#(keyMember),"nonce":\#(JSONText.quote(nonce)),"url":\#(JSONText.quote(url))}"#
        let protected64 = Base64URL.encode(protected)
        let payload64 = payload.map { Base64URL.encode($0) } ?? ""
        let signature = try key.signature(for: Array("\(protected64).\(payload64)".utf8))
        let body = #"{"protected":"\#(protected64)","payload":"\#(payload64)","signature":"\#(Base64URL.encode(signature.rawRepresentation))"}"#
        return Data(body.utf8)
    }
}

/// JSON string quoting for the few objects built by hand (member order matters for the JWK thumbprint).
enum JSONText {
    static func quote(_ text: String) -> String {
        let data = try! JSONEncoder().encode(text)
        return String(decoding: data, as: UTF8.self)
    }

    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { "\(quote($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
}
