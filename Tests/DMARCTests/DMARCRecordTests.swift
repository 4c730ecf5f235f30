import DMARC
import Testing

struct DMARCRecordTests {
    // MARK: shared conformance vectors (record-parse.json)

    @Test(arguments: Fixtures.recordCases)
    func conformance(_ c: Fixtures.RecordCase) throws {
        // The one `lenient` case (python-dmarc) separates rf values with "," and expects success; RFC 7489
        // §6.4 says `Keyword *(*WSP ":" Keyword)`, and mox rejects it. Apus follows the ABNF, as mox.
        if c.lenient == true {
            #expect(throws: DMARCRecordError.invalidValue(tag: "rf", value: "AFRF,IODEF")) {
                try DMARCRecord(parsing: c.record)
            }
            return
        }
        guard c.valid, let e = c.expected else {
            #expect(throws: DMARCRecordError.self, "\(c.note ?? "")") { try DMARCRecord(parsing: c.record) }
            return
        }
        let r = try DMARCRecord(parsing: c.record)
        #expect(r.policy.rawValue == e.p)
        #expect(r.subdomainPolicy?.rawValue == e.sp)
        #expect(r.dkimAlignment.rawValue == e.adkim)
        #expect(r.spfAlignment.rawValue == e.aspf)
        #expect(r.percent == e.pct)
        #expect(r.reportInterval == e.ri)
        #expect(r.failureReportingOptions.map(\.rawValue) == e.fo)
        #expect(r.reportFormats == e.rf)
        #expect(r.aggregateReportURIs.map(\.description) == e.rua)
        #expect(r.failureReportURIs.map(\.description) == e.ruf)
        #expect(try DMARCRecord(parsing: r.description) == { var x = r; x.impliedPolicy = false; return x }())
    }

    // MARK: our own table

    struct Valid: Sendable, CustomTestStringConvertible {
        var text: String
        var check: @Sendable (DMARCRecord) -> Bool
        var testDescription: String { text }
    }

    static let valid: [Valid] = [
        Valid(text: "v=DMARC1; p=reject") { $0 == DMARCRecord(policy: .reject) },
        Valid(text: "v=DMARC1; p=none;") { $0.policy == .none && !$0.impliedPolicy },
        Valid(text: "v=DMARC1;p=quarantine;sp=reject") { $0.policy == .quarantine && $0.subdomainPolicy == .reject },
        Valid(text: "v=DMARC1; p=REJECT; ADKIM=S; Aspf=s") {
            $0.policy == .reject && $0.dkimAlignment == .strict && $0.spfAlignment == .strict
        },
        Valid(text: "v\t=\tDMARC1\t;\tp = none\t;\t") { $0.policy == .none },
        Valid(text: "v=DMARC1; p=none; pct=0") { $0.percent == 0 },
        Valid(text: "v=DMARC1; p=none; pct=100") { $0.percent == 100 },
        Valid(text: "v=DMARC1; p=none; pct=007") { $0.percent == 7 },
        Valid(text: "v=DMARC1; p=none; ri=0") { $0.reportInterval == 0 },
        Valid(text: "v=DMARC1; p=none; ri=4294967295") { $0.reportInterval == .max },
        Valid(text: "v=DMARC1; p=none; fo=1") { $0.failureReportingOptions == [.anyFail] },
        Valid(text: "v=DMARC1; p=none; fo=D : S") { $0.failureReportingOptions == [.dkimFail, .spfFail] },
        Valid(text: "v=DMARC1; p=none; rf=afrf:iodef") { $0.reportFormats == ["afrf", "iodef"] },
        Valid(text: "v=DMARC1; p=none; rua=MAILTO:a@example.com!1K, https://r.example/x%2Cy!5") {
            $0.aggregateReportURIs == [DMARCReportURI(uri: "mailto:a@example.com", maxSize: 1, sizeUnit: .kilobytes),
                                       DMARCReportURI(uri: "https://r.example/x%2Cy", maxSize: 5)]
        },
        Valid(text: "v=DMARC1; p=none; ruf=mailto:f@example.com!7t") {
            $0.failureReportURIs == [DMARCReportURI(uri: "mailto:f@example.com", maxSize: 7, sizeUnit: .terabytes)]
        },
        // Unknown tags are ignored (§6.3), whatever their value.
        Valid(text: "v=DMARC1; p=reject; np=reject; psd=y; t=y; x_y=") { $0 == DMARCRecord(policy: .reject) },
        // §6.6.3 step 6: no valid p, but a valid rua → p=none.
        Valid(text: "v=DMARC1; p=bogus; rua=mailto:a@example.com") { $0.policy == .none && $0.impliedPolicy },
        Valid(text: "v=DMARC1; rua=mailto:a@example.com; sp=reject") {
            $0.policy == .none && $0.subdomainPolicy == nil && $0.impliedPolicy
        },
    ]

    @Test(arguments: valid)
    func parsesValid(_ v: Valid) throws {
        let record = try DMARCRecord(parsing: v.text)
        #expect(v.check(record), "\(record)")
        #expect(DMARCRecord.isDMARCRecord(v.text))
    }

    static let invalid: [(String, DMARCRecordError)] = [
        ("", .notDMARC),
        ("v=DMARC2; p=none", .notDMARC),
        ("v=DMARC10; p=none", .notDMARC),
        (" v=DMARC1; p=none", .notDMARC),
        ("spf1 v=DMARC1; p=none", .notDMARC),
        ("v=dmarc1; p=none", .notDMARC),
        ("v=DMARC1", .missingSeparatorAfterVersion),
        ("v=DMARC1 p=none", .missingSeparatorAfterVersion),
        ("v=DMARC1 x; p=none", .missingSeparatorAfterVersion),
        ("v=DMARC1; p=none;;", .emptyTag(position: 2)),
        ("v=DMARC1; ; p=none", .emptyTag(position: 1)),
        ("v=DMARC1; p=none; bogus", .malformedTag("bogus")),
        ("v=DMARC1; p=none; 1x=y", .malformedTag("1x=y")),
        ("v=DMARC1; p=none; =y", .malformedTag("=y")),
        ("v=DMARC1; p=none; P=reject", .duplicateTag("p")),
        ("v=DMARC1; p=none; x=1; x=2", .duplicateTag("x")),
        ("v=DMARC1; pct=50; p=none", .policyNotFirst),
        ("v=DMARC1; p=none; v=DMARC1", .duplicateTag("v")),
        ("v=DMARC1;", .missingPolicy),
        ("v=DMARC1; pct=10", .missingPolicy),
        ("v=DMARC1; p=rejected", .invalidPolicy(tag: "p", value: "rejected")),
        ("v=DMARC1; p=none; sp=all", .invalidPolicy(tag: "sp", value: "all")),
        ("v=DMARC1; p=none; pct=101", .invalidValue(tag: "pct", value: "101")),
        ("v=DMARC1; p=none; pct=1000", .invalidValue(tag: "pct", value: "1000")),
        ("v=DMARC1; p=none; pct=+5", .invalidValue(tag: "pct", value: "+5")),
        ("v=DMARC1; p=none; pct=5 0", .invalidValue(tag: "pct", value: "5 0")),
        ("v=DMARC1; p=none; ri=4294967296", .invalidValue(tag: "ri", value: "4294967296")),
        ("v=DMARC1; p=none; adkim=relaxed", .invalidValue(tag: "adkim", value: "relaxed")),
        ("v=DMARC1; p=none; fo=0:", .invalidValue(tag: "fo", value: "0:")),
        ("v=DMARC1; p=none; fo=0;1", .malformedTag("1")),
        ("v=DMARC1; p=none; rf=-", .invalidValue(tag: "rf", value: "-")),
        ("v=DMARC1; p=none; rua=mailto:", .invalidValue(tag: "rua", value: "mailto:")),
        ("v=DMARC1; p=none; rua=:x", .invalidValue(tag: "rua", value: ":x")),
        ("v=DMARC1; p=none; rua=1mailto:a@b", .invalidValue(tag: "rua", value: "1mailto:a@b")),
        ("v=DMARC1; p=none; rua=mailto:a@b,", .invalidValue(tag: "rua", value: "mailto:a@b,")),
        ("v=DMARC1; p=none; rua=mailto:a b@c", .invalidValue(tag: "rua", value: "mailto:a b@c")),
        ("v=DMARC1; p=none; rua=mailto:a%zz@c", .invalidValue(tag: "rua", value: "mailto:a%zz@c")),
        ("v=DMARC1; p=none; rua=mailto:a@b!1x", .invalidValue(tag: "rua", value: "mailto:a@b!1x")),
        ("v=DMARC1; p=none; rua=mailto:a@b!k", .invalidValue(tag: "rua", value: "mailto:a@b!k")),
        ("v=DMARC1; p=none; rua=mailto:a@b!1!2", .invalidValue(tag: "rua", value: "mailto:a@b!1!2")),
        ("v=DMARC1; p=none; ruf=mailto:é@b", .invalidValue(tag: "ruf", value: "mailto:é@b")),
        // An invalid rua is an error of its own, so it cannot rescue a missing p.
        ("v=DMARC1; rua=bogus", .invalidValue(tag: "rua", value: "bogus")),
    ]

    @Test(arguments: invalid)
    func rejectsInvalid(_ text: String, _ error: DMARCRecordError) {
        #expect(throws: error) { try DMARCRecord(parsing: text) }
        #expect(DMARCRecord.isDMARCRecord(text) == (error != .notDMARC))
    }

    @Test func tooLong() {
        let text = "v=DMARC1; p=none; x=" + String(repeating: "a", count: DMARCLimits.maxRecordLength)
        #expect(throws: DMARCRecordError.tooLong(text.utf8.count)) { try DMARCRecord(parsing: text) }
    }

    @Test func roundTripOfEveryTag() throws {
        var record = DMARCRecord(policy: .quarantine, subdomainPolicy: .reject)
        record.dkimAlignment = .strict
        record.spfAlignment = .strict
        record.percent = 25
        record.aggregateReportURIs = [DMARCReportURI(uri: "mailto:a@example.com", maxSize: 10, sizeUnit: .megabytes),
                                      DMARCReportURI(uri: "mailto:b@example.net")]
        record.failureReportURIs = [DMARCReportURI(uri: "mailto:f@example.com", maxSize: 100)]
        record.failureReportingOptions = [.anyFail, .dkimFail]
        record.reportFormats = ["afrf", "iodef"]
        record.reportInterval = 3600
        #expect(record.description == "v=DMARC1; p=quarantine; sp=reject; adkim=s; aspf=s; pct=25; "
            + "rua=mailto:a@example.com!10m,mailto:b@example.net; ruf=mailto:f@example.com!100; fo=1:d; "
            + "rf=afrf:iodef; ri=3600")
        #expect(try DMARCRecord(parsing: record.description) == record)
        #expect(DMARCRecord(policy: .none).description == "v=DMARC1; p=none")
    }

    @Test func policyOrder() {
        #expect(DMARCPolicy.none < .quarantine && DMARCPolicy.quarantine < .reject)
        #expect(DMARCPolicy.reject.downgraded == .quarantine)
        #expect(DMARCPolicy.quarantine.downgraded == DMARCPolicy.none)
        #expect(DMARCPolicy.none.downgraded == DMARCPolicy.none)
    }
}
