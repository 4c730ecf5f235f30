import Crypto
import Foundation
import Testing
@testable import DKIM

/// `Fixtures/canonicalization.json`: 48 cases from RFC 6376 §3.4.6, go-msgauth, dkimpy and the appendix bodies.
struct DKIMCanonicalizationTests {
    struct Case: Sendable, CustomStringConvertible {
        var id: String
        var kind: String
        var algorithm: DKIMCanonicalization
        var input: [UInt8]
        var expected: [UInt8]
        var rfcStrict: Bool
        var sha256: String?
        var description: String { id }
    }

    static let cases: [Case] = {
        let root = Fixtures.json("canonicalization.json") as! [String: Any]
        return (root["cases"] as! [[String: Any]]).map { c in
            Case(id: c["id"] as! String, kind: c["kind"] as! String,
                 algorithm: DKIMCanonicalization(rawValue: c["algorithm"] as! String)!,
                 input: (c["input"] as! String).bytes, expected: (c["expected"] as! String).bytes,
                 rfcStrict: c["rfc_strict"] as? Bool ?? true, sha256: c["sha256_b64"] as? String)
        }
    }()

    @Test func allCasesLoaded() {
        #expect(Self.cases.count == 48)
    }

    @Test(arguments: cases)
    func canonicalizes(_ c: Case) {
        // rfc_strict=false cases assume bare LF was made CRLF first, as our signer and CLI do.
        let input = c.rfcStrict ? c.input : DKIMMessage.normalizingLineEndings(c.input)
        let output = c.kind == "header" ? c.algorithm.canonicalizeHeader(input) : c.algorithm.canonicalizeBody(input)
        #expect(output == c.expected, "\(String(decoding: output, as: UTF8.self).debugDescription)")
        if let sha = c.sha256 {
            #expect(Data(SHA256.hash(data: output)).base64EncodedString() == sha)
        }
    }

    /// Beyond the shared table: colons and folding inside a value keep their single spaces.
    @Test(arguments: [
        ("Subject: a : b\r\n", "subject:a : b\r\n"),
        ("h : from :\r\n to : subject\r\n", "h:from : to : subject\r\n"),
        ("X:\r\n  folded  value \r\n", "x:folded value\r\n"),
        ("X:\r\n", "x:\r\n"),
        ("X :  \r\n", "x:\r\n"),
    ])
    func relaxedHeaderExtra(_ input: String, _ expected: String) {
        #expect(DKIMCanonicalization.relaxed.canonicalizeHeader(input.bytes) == expected.bytes)
    }

    @Test func messageSplitKeepsFoldingAndBody() throws {
        let msg = try DKIMMessage("A: 1\r\nB: 2\r\n  more\r\nC:3\r\n\r\nbody\r\n".bytes)
        #expect(msg.headers.map(\.name) == ["A", "B", "C"])
        #expect(msg.headers[1].raw == "B: 2\r\n  more\r\n".bytes)
        #expect(Array(msg.body) == "body\r\n".bytes)
        #expect(Array(try DKIMMessage("A: 1\r\n".bytes).body) == [])
        #expect(Array(try DKIMMessage("A: 1\r\n\r\n".bytes).body) == [])
    }

    @Test func malformedHeaderIsAnError() {
        #expect(throws: DKIMMessageError.emptyHeaderName(line: 1)) { try DKIMMessage(":\r\n\r\n".bytes) }
        #expect(throws: DKIMMessageError.headerWithoutColon(line: 2)) { try DKIMMessage("A: 1\r\nnocolon\r\n\r\n".bytes) }
    }
}
