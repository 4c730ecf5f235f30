import Crypto
import Foundation
import NIOHTTP1
import SwiftASN1
import Testing
import X509
@testable import ACME

/// The pure parts of the ACME client: JWS, key authorization, ClientHello parsing, the renewal
/// schedule, the web routes and the TLS-ALPN-01 certificate.
@Suite struct ACMEUnitTests {
    /// A flattened JWS whose signature verifies with the account's public key, with the members RFC 8555 §6.2 asks.
    @Test func jwsSignsWithES256() throws {
        let jws = JWS(key: P256.Signing.PrivateKey())
        let body = try jws.sign(url: "https://ca.test/new-order", nonce: "n0nce", kid: "https://ca.test/acct/1", payload: "{}")
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: String])
        let protected = try #require(Self.base64URLDecode(object["protected"]!))
        let header = try #require(try JSONSerialization.jsonObject(with: protected) as? [String: String])
        #expect(header == ["alg": "ES256", "kid": "https://ca.test/acct/1", "nonce": "n0nce", "url": "https://ca.test/new-order"])
        #expect(Self.base64URLDecode(object["payload"]!) == Data("{}".utf8))
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: try #require(Self.base64URLDecode(object["signature"]!)))
        #expect(jws.key.publicKey.isValidSignature(signature, for: Array("\(object["protected"]!).\(object["payload"]!)".utf8)))
        // POST-as-GET: empty payload; new-account: the JWK instead of kid.
        let get = try JSONSerialization.jsonObject(with: try jws.sign(url: "u", nonce: "n", kid: nil, payload: nil)) as? [String: String]
        #expect(get?["payload"] == "")
        let getHeader = String(decoding: Self.base64URLDecode(get!["protected"]!)!, as: UTF8.self)
        #expect(getHeader.contains(#""jwk":{"crv":"P-256","kty":"EC","x":""#))
    }

    /// RFC 7638: the thumbprint is over the JWK with members in lexicographic order and no spaces.
    @Test func keyAuthorizationUsesTheThumbprint() {
        let jws = JWS(key: P256.Signing.PrivateKey())
        let expected = Base64URL.encode(SHA256.hash(data: Array(jws.jwk.utf8)))
        #expect(jws.keyAuthorization(token: "tok") == "tok.\(expected)")
        #expect(jws.thumbprint.count == 43)
        #expect(!jws.jwk.contains(" "))
    }

    /// RFC 9110 §10.2.3: Retry-After as seconds or as an HTTP date; a problem document's text for the log.
    @Test func retryAfterAndProblems() throws {
        func response(_ value: String?) -> ACMETransport.Response {
            var headers = HTTPHeaders()
            if let value { headers.add(name: "Retry-After", value: value) }
            return ACMETransport.Response(status: 429, headers: headers, body: Data())
        }
        #expect(response("120").retryAfter == 120)
        #expect(response(nil).retryAfter == nil)
        #expect(response("soon").retryAfter == nil)
        #expect(response("Mon, 01 Jan 2001 00:00:00 GMT").retryAfter == 0)   // a date in the past: now
        let json = #"{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates","status":429,"subproblems":[{"type":"urn:ietf:params:acme:error:caa","detail":"CAA forbids"}]}"#
        let problem = try JSONDecoder().decode(ACMEProblem.self, from: Data(json.utf8))
        #expect(problem.shortType == "rateLimited" && !problem.isBadNonce)
        #expect(problem.description == "rateLimited: too many certificates; caa: CAA forbids")
    }

    static func base64URLDecode(_ text: String) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }

    /// A ClientHello as a TLS client writes it, with SNI and ALPN.
    static func clientHello(serverName: String?, alpn: [String]) -> [UInt8] {
        var extensions: [UInt8] = []
        func u16(_ n: Int) -> [UInt8] { [UInt8(n >> 8), UInt8(n & 0xff)] }
        if let serverName {
            let name = Array(serverName.utf8)
            let list = [0] + u16(name.count) + name
            extensions += u16(0) + u16(list.count + 2) + u16(list.count) + list
        }
        if !alpn.isEmpty {
            let list = alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            extensions += u16(16) + u16(list.count + 2) + u16(list.count) + list
        }
        extensions += u16(43) + u16(3) + [2, 3, 4]   // supported_versions, ignored
        var body: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32) + [0] + u16(2) + [0x13, 0x01] + [1, 0]
        body += u16(extensions.count) + extensions
        let handshake = [1, 0] + u16(body.count) + body
        return [22, 3, 1] + u16(handshake.count) + handshake
    }

    @Test(arguments: [
        ("mx.example.test", ["acme-tls/1"]),
        ("MTA-STS.Example.Test", ["h2", "http/1.1"]),
        (nil, ["http/1.1"]),
        ("mx.example.test", []),
    ] as [(String?, [String])])
    func clientHelloNameAndALPN(name: String?, alpn: [String]) {
        let bytes = Self.clientHello(serverName: name, alpn: alpn)
        #expect(ClientHello.parse(bytes) == .complete(ClientHello(serverName: name?.lowercased(), alpn: alpn)))
        // Every strict prefix asks for more bytes; other data is refused.
        for cut in [0, 4, 5, 40, bytes.count - 1] {
            #expect(ClientHello.parse(Array(bytes.prefix(cut))) == .incomplete)
        }
        #expect(ClientHello.parse(Array("GET / HTTP/1.1\r\n".utf8)) == .invalid)
        var lying = bytes
        lying[bytes.count - 8] = 0xff   // an extension length beyond the record
        #expect(ClientHello.parse(lying) != .complete(ClientHello(serverName: name?.lowercased(), alpn: alpn)))
    }

    /// 2/3 of the lifetime, at most 1/30 earlier; retries double up to 6 h.
    @Test func renewalSchedule() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let ninetyDays = start.addingTimeInterval(90 * 86400)
        #expect(RenewalSchedule.renewalDate(notBefore: start, notAfter: ninetyDays, jitter: 0) == start.addingTimeInterval(60 * 86400))
        #expect(RenewalSchedule.renewalDate(notBefore: start, notAfter: ninetyDays, jitter: 1) == start.addingTimeInterval(57 * 86400))
        #expect(RenewalSchedule.renewalDate(notBefore: start, notAfter: ninetyDays, jitter: 7) == start.addingTimeInterval(57 * 86400))
        #expect([1, 2, 3, 10, 100].map(RenewalSchedule.retryDelay) == [60, 120, 240, 21600, 21600])
    }

    /// The loop's next wake-up: the next renewal ahead, the backoff after failures, never a date in the past.
    @Test(arguments: [
        ([3600.0, 7200], 0, 3600.0),          // earliest renewal ahead
        ([-10, 7200], 1, 60),                 // a due certificate that failed: 1 min backoff, not "now"
        ([-10, 7200], 3, 240),
        ([-10], 10, 21600),                   // backoff capped at 6 h
        ([86400 * 30], 0, 43200),             // at least every 12 h
        ([], 0, 43200),
    ] as [([TimeInterval], Int, TimeInterval)])
    func nextAttempt(offsets: [TimeInterval], failures: Int, expected: TimeInterval) {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let next = RenewalSchedule.nextAttempt(renewalDates: offsets.map { now.addingTimeInterval($0) }, failures: failures, now: now)
        #expect(next.timeIntervalSince(now) == expected)
    }

    @Test func webRoutes() throws {
        let data = NSTemporaryDirectory() + "apus-acme-routes-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: data) }
        let store = ChallengeStore(dataDirectory: data)
        try store.putHTTP(token: "Tok_en-1", keyAuthorization: "Tok_en-1.thumb")
        let routes = WebRoutes(challenges: store, mtaSTSPolicy: { $0 == "example.test" ? "version: STSv1\r\n" : nil })
        let table: [(String, HTTPMethod, String?, String, HTTPResponseStatus, String)] = [
            ("http", .GET, "mx.example.test", "/.well-known/acme-challenge/Tok_en-1", .ok, "Tok_en-1.thumb"),
            ("http", .GET, "mx.example.test", "/.well-known/acme-challenge/other", .notFound, "no such ACME challenge\n"),
            ("http", .GET, "mx.example.test", "/.well-known/acme-challenge/../../etc/passwd", .notFound, "no such ACME challenge\n"),
            ("http", .GET, "mx.example.test:80", "/x?y=1", .movedPermanently, ""),
            ("http", .GET, nil, "/", .badRequest, "a Host header is required\n"),
            ("https", .GET, "mta-sts.example.test", "/.well-known/mta-sts.txt", .ok, "version: STSv1\r\n"),
            ("https", .GET, "mta-sts.other.test", "/.well-known/mta-sts.txt", .notFound, "no MTA-STS policy for this host name\n"),
            ("https", .POST, "mta-sts.example.test", "/.well-known/mta-sts.txt", .methodNotAllowed, "only GET\n"),
            ("https", .GET, "mta-sts.example.test", "/", .notFound, "not found\n"),
        ]
        for (listener, method, host, uri, status, body) in table {
            let response = listener == "http" ? routes.http(method: method, host: host, uri: uri)
                                              : routes.https(method: method, host: host, uri: uri)
            #expect(response.status == status && response.body == body, "\(listener) \(method) \(host ?? "-") \(uri)")
        }
        #expect(routes.http(method: .GET, host: "mx.example.test:80", uri: "/x?y=1").headers.first?.1 == "https://mx.example.test/x?y=1")
    }

    /// RFC 8737 §3: the name as the only SAN, and the critical acmeIdentifier holding SHA-256(key authorization).
    @Test func tlsALPNChallengeCertificate() throws {
        let (pem, _) = try ChallengeCertificate.make(name: "mx.example.test", keyAuthorization: "tok.thumb")
        let certificate = try Certificate(pemEncoded: pem)
        #expect(try certificate.extensions.subjectAlternativeNames == SubjectAlternativeNames([.dnsName("mx.example.test")]))
        let identifier = try #require(certificate.extensions[oid: ChallengeCertificate.acmeIdentifier])
        #expect(identifier.critical)
        #expect(Array(identifier.value) == [0x04, 0x20] + Array(SHA256.hash(data: Array("tok.thumb".utf8))))
    }

    /// The CSR carries the names in subjectAltName and is signed by the new key.
    @Test func certificateRequest() throws {
        let request = try CertificateRequest(names: ["mx.example.test", "mta-sts.example.test"])
        let csr = try CertificateSigningRequest(derEncoded: request.der)
        #expect(csr.publicKey == Certificate.PublicKey(request.key.publicKey))
        let extensions = try #require(try csr.attributes.extensionRequest).extensions
        #expect(try extensions.subjectAlternativeNames == SubjectAlternativeNames([.dnsName("mx.example.test"), .dnsName("mta-sts.example.test")]))
    }
}
