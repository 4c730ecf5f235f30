import Foundation
import Testing
@testable import Directory

@Suite struct APIKeyTests {
    /// A fixed source of "randomness", so ids and secrets are known.
    struct Counter: RandomNumberGenerator {
        var state: UInt64 = 0x0123_4567_89AB_CDEF
        mutating func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state }
    }

    static let now = Date(timeIntervalSince1970: 1_796_000_000.75)

    @Test func generatedSecretHasTheDocumentedFormAndVerifies() throws {
        var rng = Counter()
        let (secret, key) = APIKeySecret.generate(domain: "Example.COM.", name: "Billing", senders: ["b@example.com"],
                                                  dailyLimit: 100, now: Self.now, using: &rng)
        #expect(secret.utf8.count == 61)
        #expect(secret.hasPrefix("apus_\(key.id)_"))
        #expect(secret.range(of: "^apus_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$", options: .regularExpression) != nil)
        #expect(APIKeySecret.keyID(of: secret) == key.id)
        #expect(key.domain == "example.com")
        #expect(key.created == Date(timeIntervalSince1970: 1_796_000_000))
        #expect(key.hash.range(of: "^sha256:[0-9a-f]{64}$", options: .regularExpression) != nil)
        #expect(!key.hash.contains(String(secret.suffix(43))))
        #expect(key.verify(secret))

        var other = Counter(state: 42)
        let (secret2, key2) = APIKeySecret.generate(domain: "example.com", name: nil, senders: [], dailyLimit: nil, now: Self.now, using: &other)
        #expect(secret2 != secret && key2.id != key.id)
        #expect(!key.verify(secret2))
    }

    @Test func systemGeneratorGivesDistinctKeys() {
        let keys = (0..<20).map { _ in APIKeySecret.generate(domain: "example.com", name: nil, senders: [], dailyLimit: nil, now: Self.now) }
        #expect(Set(keys.map(\.secret)).count == 20)
        #expect(Set(keys.map(\.key.id)).count == 20)
    }

    static let known = "apus_0123456789ab_" + String(repeating: "A", count: 43)
    static let knownHash = "sha256:" + Hex.encode(Array(SHA256Fixture.digest(known)))

    @Test(arguments: [
        (known, true),
        (known + " ", false),
        ("apus_0123456789ab_" + String(repeating: "A", count: 42) + "B", false),
        ("", false),
        (known.uppercased(), false),
    ])
    func verify(presented: String, ok: Bool) {
        let key = APIKey(id: "0123456789ab", domain: "example.com", hash: Self.knownHash)
        #expect(key.verify(presented) == ok)
    }

    @Test(arguments: ["", "sha256:", "sha256:zz", "md5:" + String(repeating: "0", count: 64), "sha256:" + String(repeating: "A", count: 64)])
    func malformedStoredHashNeverVerifies(hash: String) {
        #expect(!APIKey(id: "0123456789ab", domain: "example.com", hash: hash).verify(""))
    }

    @Test(arguments: [
        ("apus_0123456789ab_" + String(repeating: "x", count: 43), "0123456789ab"),
        ("apus_0123456789ab_" + String(repeating: "-", count: 21) + String(repeating: "_", count: 22), "0123456789ab"),
        ("apus_0123456789AB_" + String(repeating: "x", count: 43), nil),
        ("apus_0123456789ab_" + String(repeating: "x", count: 42), nil),
        ("apus_0123456789ab_" + String(repeating: "x", count: 44), nil),
        ("apus_0123456789ab-" + String(repeating: "x", count: 43), nil),
        ("apus_0123456789ab_" + String(repeating: "x", count: 42) + "=", nil),
        ("sk_0123456789ab_" + String(repeating: "x", count: 45), nil),
        ("", nil),
    ] as [(String, String?)])
    func keyID(secret: String, id: String?) {
        #expect(APIKeySecret.keyID(of: secret) == id)
    }

    @Test(arguments: [
        ([], "alice@example.com", true),
        ([], "Alice@EXAMPLE.com.", true),
        ([], "alice@example.org", false),
        ([], "alice@sub.example.com", false),
        ([], "example.com", false),
        ([], "@example.com", false),
        (["billing@example.com"], "Billing@Example.com", true),
        (["billing@example.com"], "alice@example.com", false),
        (["billing@example.com", "news@example.com"], "news@example.com", true),
    ] as [([String], String, Bool)])
    func allows(senders: [String], sender: String, ok: Bool) {
        let key = APIKey(id: "0123456789ab", domain: "example.com", hash: Self.knownHash, senders: senders)
        #expect(key.allows(sender: sender) == ok)
    }
}

import Crypto
enum SHA256Fixture {
    static func digest(_ s: String) -> SHA256.Digest { SHA256.hash(data: Array(s.utf8)) }
}
