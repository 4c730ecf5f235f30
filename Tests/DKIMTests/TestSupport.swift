import Foundation
@testable import DKIM

enum TestKeys {
    /// dkimpy's 2048-bit PKCS#8 test key and its public key (SPKI, base64).
    static var rsa2048: DKIMSigningKey { try! key(rsa2048PEM, domain: "example.com", selector: "rsa") }
    static let rsa2048PEM = Fixtures.string("dkimpy-data/2048_testkey_PKCS8.key")
    static let rsa2048Public = Fixtures.txt("dkimpy-data/2048_testkey_PKCS8.key.pub.txt")
        .components(separatedBy: "p=").last!.filter { !$0.isWhitespace && $0 != "\"" }

    static let ed25519PEM = Fixtures.string("apus/ed25519.pem")
    static let ed25519Public = Fixtures.txt("apus/ed25519.pub.b64")

    static func key(_ pem: String, domain: String, selector: String) throws -> DKIMSigningKey {
        try DKIMSigningKey(pem: pem, domain: domain, selector: selector)
    }
}

func lookup(_ table: [String: DKIMKeyLookupResult]) -> DKIMKeyLookup {
    let table = Dictionary(uniqueKeysWithValues: table.map { ($0.key.lowercased(), $0.value) })
    return { name in table[name.lowercased()] ?? .notFound }
}

func verify(_ message: [UInt8], _ table: [String: DKIMKeyLookupResult], now: Int64 = testNow,
            maxSignatures: Int = DKIMLimits.maxSignaturesEvaluated) async -> [DKIMVerificationResult] {
    await DKIMVerifier(lookup: lookup(table), maxSignatures: maxSignatures).verify(message: message, now: now)
}

extension Array where Element == UInt8 {
    /// Replaces the first occurrence of `target` (for mutating test messages).
    func replacingFirst(_ target: String, with replacement: String) -> [UInt8] {
        let s = String(decoding: self, as: UTF8.self)
        guard let r = s.range(of: target) else { fatalError("\(target) not in message") }
        return Array(s.replacingCharacters(in: r, with: replacement).utf8)
    }
}

let sampleMessage = """
    From: Joe SixPack <joe@example.com>\r
    To: Suzie Q <suzie@shopping.example.net>\r
    Subject: Is dinner ready?\r
    Date: Fri, 11 Jul 2003 21:00:37 -0700\r
    Message-ID: <20030712040037.46341.5F8J@example.com>\r
    Received: from somewhere\r
    \r
    Hi.\r
    \r
    We lost the game.  Are you hungry yet?\r
    \r
    Joe.\r

    """.bytes
