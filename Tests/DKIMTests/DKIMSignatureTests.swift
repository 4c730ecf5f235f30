import Testing
@testable import DKIM

struct DKIMSignatureTests {
    static let base = "v=1; a=rsa-sha256; d=example.com; s=sel; h=From:To; bh=YWJj; b=ZGVm"

    @Test func parsesMinimal() throws {
        let sig = try DKIMSignature.parse(Self.base.bytes)
        #expect(sig.algorithm == .rsaSHA256)
        #expect(sig.domain == "example.com")
        #expect(sig.selector == "sel")
        #expect(sig.signedHeaders == ["From", "To"])
        #expect(sig.bodyHash == "abc".bytes)
        #expect(sig.signature == "def".bytes)
        #expect(sig.headerCanonicalization == .simple && sig.bodyCanonicalization == .simple)
        #expect(sig.effectiveIdentity == "@example.com")
        #expect(sig.keyName == "sel._domainkey.example.com")
    }

    static let valid: [(String, @Sendable (DKIMSignature) -> Bool)] = [
        ("; c=relaxed", { $0.headerCanonicalization == .relaxed && $0.bodyCanonicalization == .simple }),
        ("; c=relaxed/relaxed", { $0.headerCanonicalization == .relaxed && $0.bodyCanonicalization == .relaxed }),
        ("; c=Simple/Relaxed", { $0.headerCanonicalization == .simple && $0.bodyCanonicalization == .relaxed }),
        ("; a=ed25519-sha256", { _ in false }),   // duplicate a= -> invalid, checked below
        ("; i=joe@sub.example.com", { $0.identity == "joe@sub.example.com" }),
        ("; i=@example.com", { $0.identity == "@example.com" }),
        ("; l=12; t=100; x=200", { $0.bodyLength == 12 && $0.timestamp == 100 && $0.expiration == 200 }),
        ("; q=dns/txt", { _ in true }),
        ("; z=From:foo", { _ in true }),
        ("; future=tag", { _ in true }),
    ]

    @Test(arguments: valid.indices)
    func optionalTags(_ i: Int) throws {
        let (suffix, check) = Self.valid[i]
        if suffix.hasPrefix("; a=") {
            #expect(throws: DKIMSignatureError.tagList(.duplicateTag("a"))) { try DKIMSignature.parse((Self.base + suffix).bytes) }
            return
        }
        #expect(check(try DKIMSignature.parse((Self.base + suffix).bytes)))
    }

    static let invalid: [(String, DKIMSignatureError)] = [
        ("v=1", .missingTag("a")),
        ("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=YWJj", .missingTag("b")),
        ("v=2; a=rsa-sha256; d=example.com; s=sel; h=From; bh=YWJj; b=ZGVm", .unsupportedVersion("2")),
        ("v=1; a=rsa-sha1; d=example.com; s=sel; h=From; bh=YWJj; b=ZGVm", .unsupportedAlgorithm("rsa-sha1")),
        ("v=1; a=ed25519-sha257; d=example.com; s=sel; h=From; bh=YWJj; b=ZGVm", .unsupportedAlgorithm("ed25519-sha257")),
        ("v=1; a=rsa-sha256; c=bogus/bogus; d=example.com; s=sel; h=From; bh=YWJj; b=ZGVm", .unsupportedCanonicalization("bogus/bogus")),
        ("v=1; a=rsa-sha256; q=other; d=example.com; s=sel; h=From; bh=YWJj; b=ZGVm", .unsupportedQueryMethod("other")),
        ("v=1; a=rsa-sha256; d=example.com; s=sel; h=To:Subject; bh=YWJj; b=ZGVm", .fromNotSigned),
        ("v=1; a=rsa-sha256; d=example.com; s=sel; h=From::To; bh=YWJj; b=ZGVm", .invalidHeaderList("From::To")),
        ("v=1; a=rsa-sha256; d=legitimate.com(.attacker.com; s=sel; h=From; bh=YWJj; b=ZGVm", .invalidDomain("legitimate.com(.attacker.com")),
        ("v=1; a=rsa-sha256; d=example.com.; s=sel; h=From; bh=YWJj; b=ZGVm", .invalidDomain("example.com.")),
        ("v=1; a=rsa-sha256; d=example.com; s=a b; h=From; bh=YWJj; b=ZGVm", .invalidSelector("a b")),
        ("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=YWJj; b=ZGVm; i=joe@example.org", .identityNotInDomain(identity: "joe@example.org", domain: "example.com")),
        ("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=YWJj; b=ZGVm; i=joe@notexample.com", .identityNotInDomain(identity: "joe@notexample.com", domain: "example.com")),
        ("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=YWJj; b=ZGVm; i=joe", .invalidIdentity("joe")),
        ("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=YWJj; b=!!!", .invalidBase64(tag: "b")),
        ("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=; b=ZGVm", .invalidBase64(tag: "bh")),
        ("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=YWJj; b=ZGVm; l=-1", .invalidNumber(tag: "l", value: "-1")),
        ("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=YWJj; b=ZGVm; t=1234567890123", .invalidNumber(tag: "t", value: "1234567890123")),
        ("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; bh=YWJj; b=ZGVm; t=200; x=100", .expiresBeforeTimestamp),
        ("v=1; v=1; a=rsa-sha256", .tagList(.duplicateTag("v"))),
    ]

    @Test(arguments: invalid)
    func rejectsInvalid(_ input: String, _ error: DKIMSignatureError) {
        #expect(throws: error) { try DKIMSignature.parse(input.bytes) }
    }

    @Test func foldedHeaderListAndBase64() throws {
        // dkimpy test_degenerate_folding: h= folded before the colons.
        let sig = try DKIMSignature.parse("v=1; a=rsa-sha256; d=example.com; s=sel;\r\n h=From\r\n  :To\r\n :Subject; bh=YW\r\n Jj; b=ZG\r\n\tVm".bytes)
        #expect(sig.signedHeaders == ["From", "To", "Subject"])
        #expect(sig.bodyHash == "abc".bytes)
        #expect(sig.signature == "def".bytes)
    }
}

struct DKIMKeyRecordTests {
    @Test func parsesDefaults() throws {
        let r = try DKIMKeyRecord.parse("p=YWJj")
        #expect(r.keyType == "rsa" && r.publicKey == "abc".bytes && r.allowsEmail && r.allowsSHA256)
        #expect(!r.isRevoked && !r.isTesting && !r.isStrictIdentity)
    }

    static let cases: [(String, @Sendable (DKIMKeyRecord) -> Bool)] = [
        ("v=DKIM1; k=ed25519; p=YWJj", { $0.keyType == "ed25519" }),
        ("v=DKIM1; p=", { $0.isRevoked }),
        ("v=DKIM1; t=y; p=YWJj", { $0.isTesting && !$0.isStrictIdentity }),
        ("v=DKIM1; t=y:s; p=YWJj", { $0.isTesting && $0.isStrictIdentity }),
        ("v=DKIM1; h=sha1; p=YWJj", { !$0.allowsSHA256 }),
        ("v=DKIM1; h=sha1:sha256; p=YWJj", { $0.allowsSHA256 }),
        ("v=DKIM1; s=other; p=YWJj", { !$0.allowsEmail }),
        ("v=DKIM1; s=email; p=YWJj", { $0.allowsEmail }),
        ("v=DKIM1; n=notes here; g=*; p=YW\r\n Jj", { $0.publicKey == "abc".bytes }),
        ("k=RSA; p=YWJj", { $0.keyType == "rsa" }),
    ]

    @Test(arguments: cases.indices)
    func parses(_ i: Int) throws {
        #expect(Self.cases[i].1(try DKIMKeyRecord.parse(Self.cases[i].0)))
    }

    static let invalid: [(String, DKIMKeyRecordError)] = [
        ("v=DKIM1; bogus", .tagList(.missingEquals(tagSpec: "bogus"))),
        ("v=DKIM2; p=YWJj", .invalidVersion("DKIM2")),
        ("k=rsa; v=DKIM1; p=YWJj", .invalidVersion("DKIM1")),
        ("v=DKIM1; k=rsa", .missingPublicKey),
        ("v=DKIM1; p=!!!!", .invalidBase64),
    ]

    @Test(arguments: invalid)
    func rejects(_ input: String, _ error: DKIMKeyRecordError) {
        #expect(throws: error) { try DKIMKeyRecord.parse(input) }
    }

    @Test func conformanceKeyFiles() throws {
        for file in ["dkimpy-data/badversion.txt", "dkimpy-data/badk.txt"] {
            // badversion must fail to parse; badk parses but names a key type we cannot use.
            let txt = Fixtures.txt(file)
            if file.hasSuffix("badversion.txt") {
                #expect(throws: (any Error).self) { try DKIMKeyRecord.parse(txt) }
            } else {
                let r = try DKIMKeyRecord.parse(txt)
                #expect(r.keyType != "rsa" && r.keyType != "ed25519")
            }
        }
    }
}
