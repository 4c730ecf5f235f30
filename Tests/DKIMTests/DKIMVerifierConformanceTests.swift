import Foundation
import Testing
@testable import DKIM

/// `Fixtures/cases.json` verify_cases: RFC 6376 A.2, RFC 8463 A.3, go-msgauth and dkimpy messages.
struct DKIMVerifierConformanceTests {
    struct Case: Sendable, CustomStringConvertible {
        var message: String
        var dns: [String: String]
        var expected: [String]
        var description: String { message }
    }

    static let cases: [Case] = {
        let root = Fixtures.json("cases.json") as! [String: Any]
        return (root["verify_cases"] as! [[String: Any]]).map {
            Case(message: $0["message"] as! String, dns: $0["dns_txt"] as! [String: String],
                 expected: $0["expected"] as! [String])
        }
    }()

    /// Maps a case's expectation text to the statuses we accept (we are lenient where the file allows it).
    static func accepted(_ expectation: String) -> Set<DKIMStatus> {
        switch expectation {
        case "pass", "pass (lenient) / permerror (strict)": return [.pass]
        case "fail": return [.fail]
        case "permerror": return [.permerror]
        case "permerror/temperror (no key)": return [.permerror, .temperror]
        default: fatalError("unknown expectation \(expectation)")
        }
    }

    @Test func allCasesLoaded() { #expect(Self.cases.count == 13) }

    @Test(arguments: cases)
    func verifies(_ c: Case) async {
        let message = DKIMMessage.normalizingLineEndings(Fixtures.bytes(c.message))
        let results = await verify(message, c.dns.mapValues { .found([$0]) }, now: 1_530_000_000)
        #expect(results.count == c.expected.count, "\(results)")
        for (result, expectation) in zip(results, c.expected) {
            #expect(Self.accepted(expectation).contains(result.status), "\(result)")
        }
    }

    @Test func rfc6376AppendixA2() async {
        let results = await verify(Fixtures.bytes("rfc6376/appendix-a2-signed.eml"),
                                   ["brisbane._domainkey.example.com": .found([Fixtures.txt("rfc6376/brisbane._domainkey.example.com.txt")])])
        #expect(results.map(\.status) == [.pass])
        #expect(results.first?.domain == "example.com" && results.first?.selector == "brisbane")
        #expect(results.first?.identity == "joe@football.example.com")
    }

    @Test func rfc8463AppendixA3() async {
        let results = await verify(Fixtures.bytes("rfc8463/appendix-a3-signed.eml"), [
            "brisbane._domainkey.football.example.com": .found([Fixtures.txt("rfc8463/brisbane._domainkey.football.example.com.txt")]),
            "test._domainkey.football.example.com": .found([Fixtures.txt("rfc8463/test._domainkey.football.example.com.txt")]),
        ])
        #expect(results.map(\.status) == [.pass, .pass])
        #expect(results.map(\.algorithm) == [.ed25519SHA256, .rsaSHA256])
    }

    @Test func bareRSAPublicKeyIsAcceptedLeniently() async {
        let txt = Fixtures.txt("interop/newengland._domainkey.example.com.txt")
        let results = await verify(Fixtures.bytes("interop/raw-pkcs1-rsa-key-signed.eml"),
                                   ["newengland._domainkey.example.com": .found([txt])])
        #expect(results.map(\.status) == [.pass])
    }

    @Test func signatureLimitStopsEvaluating() async {
        let txt = Fixtures.txt("rfc6376/brisbane._domainkey.example.com.txt")
        let results = await verify(Fixtures.bytes("interop/three-identical-signatures.eml"),
                                   ["brisbane._domainkey.example.com": .found([txt])], maxSignatures: 2)
        #expect(results.map(\.status) == [.pass, .pass, .policy])
        #expect(results[2].reason == .tooManySignatures(limit: 2))
        #expect(results[2].domain == "example.com")
    }

    @Test func brokenKeyRecordIsPermerrorNotCrash() async {
        // dkimpy dnsfunc6: a truncated, corrupt p=.
        let results = await verify(Fixtures.bytes("dkimpy-data/rfc6376.signed.rsa.msg"),
                                   ["test._domainkey.football.example.com": .found(["v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvNAQEBBQADSwAwSAJBANmBe10IgY+u7h3enWTukkqtUD5PR52Tb/mPfjC0QJTocVBq6Za/PlzfV+Py92VaCak19F4WrbVTK5Gg5tW220MCAwEAAQ=="])])
        #expect(results.map(\.status) == [.permerror])
    }

    @Test func unsignedMessageHasNoResults() async {
        #expect(await verify(Fixtures.bytes("rfc6376/appendix-a1-unsigned.eml"), [:]).isEmpty)
    }
}
