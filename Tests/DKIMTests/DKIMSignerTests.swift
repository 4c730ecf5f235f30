import Foundation
import Testing
@testable import DKIM

struct DKIMSignerTests {
    static let dns: [String: DKIMKeyLookupResult] = [
        "rsa._domainkey.example.com": .found(["v=DKIM1; k=rsa; p=\(TestKeys.rsa2048Public)"]),
        "ed._domainkey.example.com": .found(["v=DKIM1; k=ed25519; p=\(TestKeys.ed25519Public)"]),
    ]
    static var keys: [DKIMSigningKey] {
        [TestKeys.rsa2048, try! TestKeys.key(TestKeys.ed25519PEM, domain: "example.com", selector: "ed")]
    }

    @Test func signsWithEveryKeyAndVerifies() async throws {
        let signed = try DKIMSigner(timestamp: testNow).sign(message: sampleMessage, keys: Self.keys)
        let results = await verify(signed, Self.dns)
        #expect(results.map(\.status) == [.pass, .pass], "\(results)")
        #expect(results.map(\.algorithm) == [.rsaSHA256, .ed25519SHA256])
        #expect(Array(signed.suffix(sampleMessage.count)) == sampleMessage)
    }

    @Test func headerShape() throws {
        let signed = try DKIMSigner(timestamp: 1_700_000_000).sign(message: sampleMessage, keys: [TestKeys.rsa2048])
        let msg = try DKIMMessage(signed)
        let field = msg.headers[0]
        #expect(field.name == "DKIM-Signature")
        // Every physical line stays below 78 characters.
        for line in String(decoding: field.raw, as: UTF8.self).components(separatedBy: "\r\n") {
            #expect(line.utf8.count < 78, "\(line)")
        }
        let sig = try DKIMSignature.parse(field.valueBytes)
        #expect(sig.headerCanonicalization == .relaxed && sig.bodyCanonicalization == .relaxed)
        #expect(sig.timestamp == 1_700_000_000 && sig.expiration == nil && sig.bodyLength == nil)
        // Present over-signed fields appear once more than they occur; absent ones (cc, reply-to) once;
        // other present fields as often as they occur; fields not in the list (received) never.
        let h = sig.signedHeaders
        func count(_ n: String) -> Int { h.filter { $0 == n }.count }
        #expect(count("from") == 2 && count("to") == 2 && count("subject") == 2 && count("date") == 2)
        #expect(count("message-id") == 2 && count("cc") == 1 && count("reply-to") == 1)
        #expect(count("received") == 0 && count("mime-version") == 0)
    }

    @Test func longHeaderListFoldsAndVerifies() async throws {
        var head = ""
        for name in DKIMSigner.defaultSignedHeaders { head += "\(name): value of \(name)\r\n" }
        let message = (head + "\r\nbody\r\n").bytes
        let key = try DKIMSigningKey(pem: TestKeys.rsa2048PEM, domain: "a-rather-long-subdomain.example.com",
                                     selector: "a-long-selector-name-2026-11")
        let signed = try DKIMSigner(timestamp: testNow, expiration: testNow + 86400).sign(message: message, keys: [key])
        let field = try DKIMMessage(signed).headers[0]
        for line in String(decoding: field.raw, as: UTF8.self).components(separatedBy: "\r\n") {
            #expect(line.utf8.count < 78, "\(line)")
        }
        let sig = try DKIMSignature.parse(field.valueBytes)
        #expect(sig.signedHeaders.count == DKIMSigner.defaultSignedHeaders.count + DKIMSigner.defaultOverSignedHeaders.count)
        #expect(sig.expiration == testNow + 86400)
        let results = await verify(signed, ["a-long-selector-name-2026-11._domainkey.a-rather-long-subdomain.example.com":
                                                .found(["v=DKIM1; k=rsa; p=\(TestKeys.rsa2048Public)"])])
        #expect(results.map(\.status) == [.pass])
    }

    @Test func overSigningStopsAddedHeaders() async throws {
        let signed = try DKIMSigner(timestamp: testNow).sign(message: sampleMessage, keys: Self.keys)
        for extra in ["Subject: Buy now\r\n", "From: evil@example.org\r\n", "Cc: x@example.org\r\n", "Reply-To: a@b.example\r\n"] {
            // Added at the bottom of the header block: the position a signed-once header would pick.
            let tampered = signed.replacingFirst("Received: from somewhere\r\n", with: "Received: from somewhere\r\n" + extra)
            #expect(await verify(tampered, Self.dns).map(\.reason) == [.signatureMismatch, .signatureMismatch], "\(extra)")
        }
    }

    @Test func tamperedHeaderAndBodyFailWithTheRightReason() async throws {
        let signed = try DKIMSigner(timestamp: testNow).sign(message: sampleMessage, keys: Self.keys)
        let header = signed.replacingFirst("Is dinner ready?", with: "Is dinner ready!")
        #expect(await verify(header, Self.dns).map(\.reason) == [.signatureMismatch, .signatureMismatch])
        let body = signed.replacingFirst("We lost", with: "We won")
        #expect(await verify(body, Self.dns).map(\.reason) == [.bodyHashMismatch, .bodyHashMismatch])
        // Relaxed canonicalization tolerates whitespace changes and re-folding.
        let spaced = signed.replacingFirst("Subject: Is dinner", with: "Subject:  Is\r\n  dinner")
            .replacingFirst("the game.  Are", with: "the game. \t Are")
        #expect(await verify(spaced, Self.dns).map(\.status) == [.pass, .pass])
        // An unsigned header may be added freely.
        let added = Array("X-Spam: no\r\n".utf8) + signed
        #expect(await verify(added, Self.dns).map(\.status) == [.pass, .pass])
    }

    /// dkimpy's sign/verify round trip over all four c= combinations, with and without l=.
    @Test(arguments: [DKIMCanonicalization.simple, .relaxed], [DKIMCanonicalization.simple, .relaxed])
    func roundTripAllCanonicalizations(_ header: DKIMCanonicalization, _ body: DKIMCanonicalization) async throws {
        let message = Fixtures.bytes("dkimpy-data/test.message")
        let input = DKIMMessage.normalizingLineEndings(message)
        var signer = DKIMSigner(timestamp: testNow)
        signer.headerCanonicalization = header
        signer.bodyCanonicalization = body
        let signed = try signer.sign(message: input, keys: Self.keys)
        #expect(await verify(signed, Self.dns).map(\.status) == [.pass, .pass])
        #expect(await verify(signed + "foo\r\n".bytes, Self.dns).map(\.reason) == [.bodyHashMismatch, .bodyHashMismatch])

        signer.includeBodyLength = true
        let withLength = try signer.sign(message: input, keys: Self.keys)
        #expect(await verify(withLength + "foo\r\n".bytes, Self.dns).map(\.status) == [.pass, .pass])
    }

    @Test func refusesMessageWithoutFrom() throws {
        let message = DKIMMessage.normalizingLineEndings(Fixtures.bytes("dkimpy-data/test_nofrom.message"))
        #expect(throws: DKIMSignError.noFromHeader) { try DKIMSigner(timestamp: testNow).sign(message: message, keys: Self.keys) }
    }

    @Test func extraFromAtTopOrBottomFails() async throws {
        let input = DKIMMessage.normalizingLineEndings(Fixtures.bytes("dkimpy-data/test.message"))
        let signed = try DKIMSigner(timestamp: testNow).sign(message: input, keys: Self.keys)
        let top = "From: Evil <evil@example.org>\r\n".bytes + signed
        #expect(await verify(top, Self.dns).map(\.status) == [.fail, .fail])
        let bottom = signed.replacingFirst("\r\n\r\n", with: "\r\nFrom: Evil <evil@example.org>\r\n\r\n")
        #expect(await verify(bottom, Self.dns).map(\.status) == [.fail, .fail])
    }

    @Test func windows1258BodyDoesNotCrash() async throws {
        let input = DKIMMessage.normalizingLineEndings(Fixtures.bytes("dkimpy-data/rfc6376.w1258.msg"))
        let signed = try DKIMSigner(timestamp: testNow).sign(message: input, keys: Self.keys)
        #expect(await verify(signed, Self.dns).map(\.status) == [.pass, .pass])
    }

    @Test func emptyBody() async throws {
        let msg = "From: a@example.com\r\nSubject: x\r\n\r\n".bytes
        let signed = try DKIMSigner(timestamp: testNow).sign(message: msg, keys: Self.keys)
        #expect(await verify(signed, Self.dns).map(\.status) == [.pass, .pass])
        let noSeparator = "From: a@example.com\r\nSubject: x\r\n".bytes
        let signed2 = try DKIMSigner(timestamp: testNow).sign(message: noSeparator, keys: Self.keys)
        #expect(await verify(signed2, Self.dns).map(\.status) == [.pass, .pass])
    }

    /// go-msgauth's deterministic vectors: same key, same tags; our output must verify (it differs only in
    /// tag order and folding, so b= is not compared byte-for-byte).
    @Test func signVectorsVerify() async throws {
        let unsigned = Fixtures.bytes("sign-vectors/unsigned.eml")
        let rsa = try DKIMSigningKey(insecureRSAPEM: Fixtures.string("rfc6376/appendix-c-private.pem"), domain: "example.org", selector: "brisbane")
        let seed = [UInt8](Data(base64Encoded: Fixtures.txt("rfc8463/ed25519-private-seed.b64"))!)
        let ed = try DKIMSigningKey(ed25519Seed: seed, domain: "football.example.com", selector: "brisbane")
        var signer = DKIMSigner(timestamp: 424242)
        signer.headerCanonicalization = .simple
        signer.bodyCanonicalization = .simple
        let signed = try signer.sign(message: unsigned, keys: [rsa, ed])
        let results = await verify(signed, [
            "brisbane._domainkey.example.org": .found([Fixtures.txt("rfc6376/brisbane._domainkey.example.com.txt")]),
            "brisbane._domainkey.football.example.com": .found([Fixtures.txt("rfc8463/brisbane._domainkey.football.example.com.txt")]),
        ])
        #expect(results.map(\.status) == [.pass, .pass], "\(results)")
        // The Ed25519 public key derived from the RFC 8463 seed is the published one.
        #expect(ed.publicKeyBase64 == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    }

    /// RFC 8301 §3.2: 1024-bit RSA keys (common when migrating from OpenDKIM) sign and verify, flagged weak;
    /// 512-bit keys are refused.
    @Test func signsWith1024BitRSAButRefuses512() async throws {
        let key = try DKIMSigningKey(pem: Fixtures.string("apus/rsa1024.pem"), domain: "example.com", selector: "old")
        #expect(key.rsaBits == 1024 && key.isWeak)
        #expect(!TestKeys.rsa2048.isWeak)
        let signed = try DKIMSigner(timestamp: testNow).sign(message: sampleMessage, keys: [key])
        let pub = Fixtures.string("apus/rsa1024.pub.b64").trimmingCharacters(in: .whitespacesAndNewlines)
        let results = await verify(signed, ["old._domainkey.example.com": .found(["v=DKIM1; k=rsa; p=\(pub)"])])
        #expect(results.map(\.status) == [.pass], "\(results)")
        #expect(throws: (any Error).self) {   // swift-crypto refuses it already; else rsaKeyTooShort
            try DKIMSigningKey(pem: Fixtures.string("apus/rsa512.pem"), domain: "example.com", selector: "s")
        }
    }

    @Test func detectsKeyTypes() throws {
        #expect(try DKIMSigningKey(pem: TestKeys.ed25519PEM, domain: "example.com", selector: "s").algorithm == .ed25519SHA256)
        #expect(try DKIMSigningKey(pem: TestKeys.rsa2048PEM, domain: "example.com", selector: "s").algorithm == .rsaSHA256)
        #expect(try DKIMSigningKey(pem: Fixtures.string("dkimpy-data/2048_testkey.key"), domain: "example.com", selector: "s").algorithm == .rsaSHA256)
        #expect(throws: (any Error).self) { try DKIMSigningKey(pem: "garbage", domain: "example.com", selector: "s") }
    }

    @Test func txtStringsStayWithin255Bytes() throws {
        let key = TestKeys.rsa2048
        let strings = key.txtStrings
        #expect(strings.allSatisfy { $0.utf8.count <= 255 })
        #expect(strings.joined() == key.txtRecord)
        #expect(strings[0] == "v=DKIM1; k=rsa; ")
        #expect(strings.count == 3)   // head + 392 chars of "p=…" in two pieces
        let line = key.zoneFileLine()
        #expect(line.hasPrefix("rsa._domainkey.example.com. 3600 IN TXT \"v=DKIM1; k=rsa; \" \"p=MII"))
        let ed = try TestKeys.key(TestKeys.ed25519PEM, domain: "example.com", selector: "ed")
        #expect(ed.txtStrings == ["v=DKIM1; k=ed25519; ", "p=\(TestKeys.ed25519Public)"])
    }
}
