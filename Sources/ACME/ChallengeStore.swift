import Foundation
import NIOSSL

/// Challenge answers shared between whoever runs an order (the server's renewal task, or `apus cert
/// renew` in another process) and the listeners that answer the CA: plain files under
/// `<data_dir>/state/acme/challenges/`, read at each request. So `apus cert renew` works while
/// `apus serve` holds ports 80 and 443.
///
///     http-01/<token>            the key authorization (RFC 8555 §8.3)
///     tls-alpn-01/<name>.pem     the challenge certificate and its key (RFC 8737 §3)
public struct ChallengeStore: Sendable {
    public let directory: String

    public init(dataDirectory: String) {
        self.directory = "\(dataDirectory)/state/acme/challenges"
    }

    /// Tokens are base64url (RFC 8555 §8.1); anything else is never a file name.
    static func isToken(_ token: String) -> Bool {
        !token.isEmpty && token.count <= 256
            && token.utf8.allSatisfy { $0 == 0x2d || $0 == 0x5f || (0x30...0x39).contains($0)
                || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) }
    }

    static func isHostName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 253 && !name.hasPrefix(".")
            && name.utf8.allSatisfy { $0 == 0x2d || $0 == 0x2e || (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) }
    }

    func httpPath(_ token: String) -> String { "\(directory)/http-01/\(token)" }
    func tlsPath(_ name: String) -> String { "\(directory)/tls-alpn-01/\(name).pem" }

    // MARK: the listeners' side

    /// The key authorization to answer `GET /.well-known/acme-challenge/<token>` with.
    public func httpAnswer(token: String) -> String? {
        guard Self.isToken(token), let data = FileManager.default.contents(atPath: httpPath(token)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The challenge certificate for a TLS-ALPN-01 handshake naming `serverName`.
    public func tlsAnswer(serverName: String) -> (chain: [NIOSSLCertificate], key: NIOSSLPrivateKey)? {
        let name = serverName.lowercased()
        guard Self.isHostName(name), let data = FileManager.default.contents(atPath: tlsPath(name)),
              let chain = try? NIOSSLCertificate.fromPEMBytes(Array(data)), !chain.isEmpty,
              let key = try? NIOSSLPrivateKey(bytes: Array(data), format: .pem) else { return nil }
        return (chain, key)
    }

    // MARK: the order's side

    func putHTTP(token: String, keyAuthorization: String) throws {
        guard Self.isToken(token) else { throw ACMEError("the CA sent an invalid http-01 token \(token.debugDescription)") }
        try FileWriter.replace(httpPath(token), contents: Array(keyAuthorization.utf8), mode: 0o644)
    }

    func putTLS(name: String, keyAuthorization: String) throws {
        let (certificate, key) = try ChallengeCertificate.make(name: name, keyAuthorization: keyAuthorization)
        try FileWriter.replace(tlsPath(name), contents: Array((certificate + key).utf8), mode: 0o644)
    }

    func remove(token: String, name: String) {
        if Self.isToken(token) { unlink(httpPath(token)) }
        if Self.isHostName(name) { unlink(tlsPath(name)) }
    }
}
