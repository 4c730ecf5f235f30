import Crypto
import Foundation
import Testing
@testable import DKIM

/// The streaming body hash (large messages, body on disk) against the in-memory canonicalization, over
/// bodies that exercise every rule of RFC 6376 §3.4.3/§3.4.4, split at every possible point.
struct DKIMBodyHasherTests {
    static let bodies: [String] = [
        "",
        "\r\n",
        "\r\n\r\n\r\n",
        "one line\r\n",
        "no final CRLF",
        "trailing empty lines\r\n\r\n\r\n",
        "  leading and   inner \t whitespace \t \r\n",
        "whitespace-only lines\r\n \t \r\n   \r\n",
        "whitespace-only last line without CRLF\r\n   ",
        "bare\rCR and bare\nLF\r\n",
        "CR at the end\r",
        "CR CR LF\r\r\n",
        "space before bare CR \r x\r\n",
        "empty lines between\r\n\r\n\r\ncontent\r\n\r\n",
        "\r\n\r\nstarts with empty lines\r\n",
        ".\r\n..dots\r\n",
    ]

    static func expected(_ body: [UInt8], _ c: DKIMCanonicalization, limit: Int64? = nil) -> DKIMBodyDigest {
        var canonical = c.canonicalizeBody(body)
        let length = Int64(canonical.count)
        if let limit { canonical = Array(canonical.prefix(Int(min(limit, length)))) }
        return DKIMBodyDigest(hash: Array(SHA256.hash(data: canonical)), canonicalLength: length)
    }

    @Test(arguments: DKIMCanonicalization.allCases)
    func everySplitMatchesTheInMemoryForm(_ c: DKIMCanonicalization) {
        for text in Self.bodies {
            let body = Array(text.utf8)
            let want = Self.expected(body, c)
            for cut in 0...body.count {
                var hasher = DKIMBodyHasher(canonicalization: c)
                body[..<cut].withUnsafeBytes { hasher.update($0) }
                body[cut...].withUnsafeBytes { hasher.update($0) }
                #expect(hasher.finish() == want, "\(c) \(text.debugDescription) cut at \(cut)")
            }
            var byteByByte = DKIMBodyHasher(canonicalization: c)
            for byte in body { [byte].withUnsafeBytes { byteByByte.update($0) } }
            #expect(byteByByte.finish() == want, "\(c) \(text.debugDescription) byte by byte")
        }
    }

    @Test(arguments: DKIMCanonicalization.allCases)
    func lengthLimitHashesThePrefixAndCountsAll(_ c: DKIMCanonicalization) {
        let body = Array("first line  \r\nsecond\r\n\r\n".utf8)
        for limit in [0, 1, 5, 12, 14, 100] as [Int64] {
            var hasher = DKIMBodyHasher(canonicalization: c, limit: limit)
            hasher.update(body)
            #expect(hasher.finish() == Self.expected(body, c, limit: limit), "\(c) l=\(limit)")
        }
    }

    @Test func largeRandomBodyInUnevenChunks() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab \t\r\n.".utf8)
        let body = (0..<300_000).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        for c in DKIMCanonicalization.allCases {
            var hasher = DKIMBodyHasher(canonicalization: c)
            var offset = 0, step = 1
            while offset < body.count {
                let end = min(body.count, offset + step)
                body[offset..<end].withUnsafeBytes { hasher.update($0) }
                offset = end
                step = step * 3 % 65_521 + 1
            }
            #expect(hasher.finish() == Self.expected(body, c))
        }
    }

    /// The streaming entry points give what the in-memory ones give: same signature fields, same results.
    @Test func streamingSignAndVerifyMatchInMemory() async throws {
        let keys = [TestKeys.rsa2048, try TestKeys.key(TestKeys.ed25519PEM, domain: "example.com", selector: "ed")]
        let signer = DKIMSigner(timestamp: testNow)
        let parsed = try DKIMMessage(sampleMessage)
        let header = Array(sampleMessage[..<(sampleMessage.count - parsed.body.count)])
        let body = Array(parsed.body)
        var hasher = DKIMBodyHasher(canonicalization: signer.bodyCanonicalization)
        hasher.update(body)
        let fields = try signer.signatureFields(header: header, body: hasher.finish(), keys: keys)
        #expect(fields + sampleMessage == (try signer.sign(message: sampleMessage, keys: keys)))

        let dns = DKIMSignerTests.dns
        let signedHeader = fields + header
        let verifier = DKIMVerifier(lookup: lookup(dns))
        let requests = verifier.bodyHashRequests(header: signedHeader)
        #expect(requests == [DKIMBodyHashRequest(canonicalization: .relaxed)])
        var set = DKIMBodyHashSet(requests)
        body.withUnsafeBytes { set.update($0) }
        let streamed = await verifier.verify(header: signedHeader, bodyHashes: set.finish(), now: testNow)
        #expect(streamed.map(\.status) == [.pass, .pass])

        // A changed body fails the same way in both.
        var changed = body
        changed[0] ^= 0x20
        var other = DKIMBodyHashSet(requests)
        changed.withUnsafeBytes { other.update($0) }
        let failed = await verifier.verify(header: signedHeader, bodyHashes: other.finish(), now: testNow)
        #expect(failed.map(\.reason) == [.bodyHashMismatch, .bodyHashMismatch])
        // A digest the caller did not compute never passes.
        let missing = await verifier.verify(header: signedHeader, bodyHashes: [:], now: testNow)
        #expect(missing.map(\.status) == [.fail, .fail])
    }
}
