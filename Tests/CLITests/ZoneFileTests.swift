import DKIM
import DNSCore
import Foundation
import Testing
@testable import CLI

/// Zone-file formatting (`Sources/CLI/ZoneFile.swift`): TXT strings of at most 255 bytes, quoting, the table.
@Suite struct ZoneFileTests {
    /// (value, expected byte length of each string)
    static let splits: [(String, [Int])] = [
        ("", [0]),
        ("v=spf1 mx -all", [14]),
        (String(repeating: "a", count: 255), [255]),
        (String(repeating: "a", count: 256), [255, 1]),
        (String(repeating: "b", count: 600), [255, 255, 90]),
        // "é" is two bytes: a string must not end in the middle of it.
        (String(repeating: "a", count: 254) + "é" + "z", [254, 3]),
    ]

    @Test(arguments: splits)
    func characterStringsAreAtMost255BytesAndRejoin(value: String, lengths: [Int]) {
        let strings = ZoneFile.characterStrings(value)
        #expect(strings.map(\.utf8.count) == lengths)
        #expect(strings.joined() == value)
        #expect(strings.allSatisfy { $0.utf8.count <= 255 })
    }

    static let quoting: [(String, String)] = [
        ("v=DMARC1; p=none", #""v=DMARC1; p=none""#),
        (#"say "hi""#, #""say \"hi\"""#),
        (#"back\slash"#, #""back\\slash""#),
        ("tab\there", #""tab\009here""#),
        ("é", #""\195\169""#),
    ]

    @Test(arguments: quoting)
    func quotedEscapesAsRFC1035Says(raw: String, quoted: String) {
        #expect(ZoneFile.quoted(raw) == quoted)
    }

    @Test func recordLines() throws {
        let mx = ZoneRecord(name: "example.com", data: .mx(preference: 10, exchange: "mx.example.com"))
        #expect(mx.zoneLine == "example.com. 3600 IN MX 10 mx.example.com.")
        #expect(mx.plainValue == "10 mx.example.com")
        let a = ZoneRecord(name: "mx.example.com", data: .address(try #require(IPAddress("192.0.2.1"))))
        #expect(a.zoneLine == "mx.example.com. 3600 IN A 192.0.2.1")
        let aaaa = ZoneRecord(name: "mx.example.com", ttl: 300, data: .address(try #require(IPAddress("2001:DB8::1"))))
        #expect(aaaa.zoneLine == "mx.example.com. 300 IN AAAA 2001:db8::1")
        let long = ZoneRecord.txt("example.com", "v=spf1 " + String(repeating: "x", count: 300))
        #expect(long.zoneLine.hasPrefix("example.com. 3600 IN TXT \"v=spf1 xxx"))
        guard case .txt(let strings) = long.data else { Issue.record("not TXT"); return }
        #expect(strings.count == 2)
    }

    /// `apus dkim dns` now prints through `ZoneRecord.dkim`: the same line as `DKIMSigningKey.zoneFileLine`.
    @Test(arguments: [DKIMKeyAlgorithm.ed25519, .rsa2048])
    func dkimRecordMatchesTheKeysOwnLine(algorithm: DKIMKeyAlgorithm) throws {
        let key = try DKIMSigningKey.generate(algorithm, domain: "example.com", selector: "s1")
        let record = ZoneRecord.dkim(key)
        #expect(record.zoneLine == key.zoneFileLine())
        #expect(record.plainValue == key.txtRecord)
        guard case .txt(let strings) = record.data else { Issue.record("not TXT"); return }
        #expect(strings.allSatisfy { $0.utf8.count <= 255 })
    }

    @Test func tableColumnsLineUp() {
        let text = ZoneFile.table([("example.com", "MX", "10 mx.example.com"), ("_dmarc.example.com", "TXT", "v=DMARC1")])
        #expect(text == """
            NAME                TYPE  VALUE
            example.com         MX    10 mx.example.com
            _dmarc.example.com  TXT   v=DMARC1
            """)
    }
}
