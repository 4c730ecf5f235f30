import Foundation
import Testing
@testable import DKIM

/// The mox TestVerify mutations (cases.json "mutation_cases"), rebuilt around our own Ed25519 key: start from a
/// valid signature by d=mox.example s=test with a key record carrying t=s, change one thing, check the result.
struct DKIMVerifierMutationTests {
    static let name = "test._domainkey.mox.example"
    static let record = "v=DKIM1; k=ed25519; t=s; p=\(TestKeys.ed25519Public)"

    static func signed(_ configure: (inout DKIMSigner) -> Void = { _ in }) -> [UInt8] {
        var signer = DKIMSigner(timestamp: testNow - 60)
        configure(&signer)
        let key = try! TestKeys.key(TestKeys.ed25519PEM, domain: "mox.example", selector: "test")
        return try! signer.sign(message: sampleMessage, keys: [key])
    }

    struct Mutation: Sendable, CustomStringConvertible {
        var description: String
        var message: @Sendable () -> [UInt8]
        var dns: [String: DKIMKeyLookupResult]
        var status: DKIMStatus
        var reason: DKIMReason?
    }

    static let ok: [String: DKIMKeyLookupResult] = [name: .found([record])]
    static func key(_ txt: String) -> [String: DKIMKeyLookupResult] { [name: .found([txt])] }

    static let mutations: [Mutation] = [
        Mutation(description: "none", message: { signed() }, dns: ok, status: .pass, reason: .verified),
        Mutation(description: "empty header name", message: { ":\r\n\r\n".bytes }, dns: ok, status: .permerror, reason: nil),
        Mutation(description: "no TXT record", message: { signed() }, dns: [:], status: .permerror, reason: .keyNotFound),
        Mutation(description: "SERVFAIL", message: { signed() }, dns: [name: .temporaryFailure("SERVFAIL")], status: .temperror,
                 reason: .keyLookupFailed("SERVFAIL")),
        Mutation(description: "TXT v=DKIM1; bogus", message: { signed() }, dns: key("v=DKIM1; bogus"), status: .permerror,
                 reason: .malformedKeyRecord(.tagList(.missingEquals(tagSpec: "bogus")))),
        Mutation(description: "TXT bogus", message: { signed() }, dns: key("bogus"), status: .permerror, reason: nil),
        Mutation(description: "two identical records", message: { signed() }, dns: [name: .found([record, record])],
                 status: .permerror, reason: .multipleKeyRecords(2)),
        Mutation(description: "DKIM-Signature: v=1 only", message: { "DKIM-Signature: v=1\r\n".bytes + sampleMessage }, dns: ok,
                 status: .permerror, reason: .malformedSignature(.missingTag("a"))),
        Mutation(description: "From not in h=", message: { signed { $0.signedHeaders = ["subject", "to"] } }, dns: ok,
                 status: .permerror, reason: .malformedSignature(.fromNotSigned)),
        Mutation(description: "d=com", message: { signed().replacingFirst("d=mox.example", with: "d=com") }, dns: ok,
                 status: .permerror, reason: .keyNotFound),
        Mutation(description: "a=ed25519-sha257", message: { signed().replacingFirst("a=ed25519-sha256", with: "a=ed25519-sha257") },
                 dns: ok, status: .permerror, reason: .malformedSignature(.unsupportedAlgorithm("ed25519-sha257"))),
        Mutation(description: "c=bogus/bogus", message: { signed().replacingFirst("c=relaxed/relaxed", with: "c=bogus/bogus") },
                 dns: ok, status: .permerror, reason: .malformedSignature(.unsupportedCanonicalization("bogus/bogus"))),
        Mutation(description: "q=other", message: { signed().replacingFirst("v=1;", with: "v=1; q=other;") }, dns: ok,
                 status: .permerror, reason: .malformedSignature(.unsupportedQueryMethod("other"))),
        Mutation(description: "key h=sha1", message: { signed() }, dns: key("v=DKIM1; k=ed25519; h=sha1; p=\(TestKeys.ed25519Public)"),
                 status: .permerror, reason: .keyHashExcludesSHA256),
        Mutation(description: "key k=rsa", message: { signed() }, dns: key("v=DKIM1; k=rsa; p=\(TestKeys.ed25519Public)"),
                 status: .permerror, reason: .keyTypeMismatch(keyType: "rsa", algorithm: .ed25519SHA256)),
        Mutation(description: "key k=dsa", message: { signed() }, dns: key("v=DKIM1; k=dsa; p=\(TestKeys.ed25519Public)"),
                 status: .permerror, reason: .unsupportedKeyType("dsa")),
        Mutation(description: "revoked", message: { signed() }, dns: key("v=DKIM1; k=ed25519; p="), status: .permerror, reason: .keyRevoked),
        Mutation(description: "key s=other", message: { signed() }, dns: key("v=DKIM1; k=ed25519; s=other; p=\(TestKeys.ed25519Public)"),
                 status: .permerror, reason: .keyServiceNotEmail),
        Mutation(description: "Subject changed", message: { signed().replacingFirst("dinner", with: "lunch") }, dns: ok,
                 status: .fail, reason: .signatureMismatch),
        Mutation(description: "body changed", message: { signed().replacingFirst("Joe.", with: "Jim.") }, dns: ok,
                 status: .fail, reason: .bodyHashMismatch),
        Mutation(description: "no over-signing, extra subject at the bottom", message: {
            signed { $0.overSignedHeaders = [] }.replacingFirst("Received:", with: "Subject: other\r\nReceived:")
        }, dns: ok, status: .fail, reason: .signatureMismatch),
        Mutation(description: "no over-signing, extra subject at the top", message: {
            "Subject: other\r\n".bytes + signed { $0.overSignedHeaders = [] }
        }, dns: ok, status: .pass, reason: .verified),
        // Beyond mox:
        Mutation(description: "t=s with i= in a subdomain", message: { signed().replacingFirst("v=1;", with: "v=1; i=@sub.mox.example;") },
                 dns: ok, status: .permerror, reason: .strictIdentityMismatch),
        Mutation(description: "expired x=", message: { signed { $0.timestamp = testNow - 100; $0.expiration = testNow - 10 } }, dns: ok,
                 status: .permerror, reason: .signatureExpired(expiration: testNow - 10)),
        Mutation(description: "x= in the future", message: { signed { $0.expiration = testNow + 100 } }, dns: ok,
                 status: .pass, reason: .verified),
        Mutation(description: "corrupt b=", message: { signed().replacingFirst("b=", with: "b=AAAA") }, dns: ok,
                 status: .fail, reason: .signatureMismatch),
        Mutation(description: "wrong Ed25519 key length", message: { signed() }, dns: key("v=DKIM1; k=ed25519; p=YWJj"),
                 status: .permerror, reason: .malformedKey),
    ]

    @Test(arguments: mutations)
    func mutation(_ m: Mutation) async {
        let results = await verify(m.message(), m.dns)
        #expect(results.count == 1)
        #expect(results.first?.status == m.status, "\(results)")
        if let reason = m.reason { #expect(results.first?.reason == reason, "\(results)") }
    }

    @Test func testingFlagIsReported() async {
        let results = await verify(Self.signed(), Self.key("v=DKIM1; k=ed25519; t=y; p=\(TestKeys.ed25519Public)"))
        #expect(results.map(\.status) == [.pass])
        #expect(results.first?.testing == true)
        #expect(results.first?.description == "pass d=mox.example s=test signature verified (key in testing mode t=y)")
    }

    /// RSA key sizes: 512 bits is refused, 1024 accepted (RFC 8301 §3.2).
    @Test func rsaKeySizes() async throws {
        let signed = try DKIMSigner(timestamp: testNow).sign(message: sampleMessage, keys: [TestKeys.rsa2048])
        let short = await verify(signed, ["rsa._domainkey.example.com": .found(["v=DKIM1; p=\(Fixtures.txt("apus/rsa512.pub.b64"))"])])
        #expect(short.map(\.reason) == [.keyTooShort(bits: 512)])
        #expect(short.map(\.status) == [.permerror])
        // A 1024-bit key loads (its signature does not match: it is a different key).
        let other = await verify(signed, ["rsa._domainkey.example.com": .found(["v=DKIM1; p=\(Fixtures.txt("apus/rsa1024.pub.b64"))"])])
        #expect(other.map(\.reason) == [.signatureMismatch])
    }
}
