import DMARC
import DNSCore
import Testing

struct DMARCPolicyDiscoveryTests {
    let discovery = DMARCPolicyDiscovery()

    @Test(arguments: Fixtures.discovery.cases)
    func conformance(_ c: Fixtures.DiscoveryCase) async {
        let dns = Fixtures.resolver(zone: Fixtures.discovery.zone, temperror: Fixtures.discovery.temperror)
        let result = await discovery.discover(fromDomain: c.from_domain, resolver: dns)
        #expect(result.domain == c.expect.policy_domain)
        switch (result, c.expect.status) {
        case (.found(let record, _), "found"): #expect(record.policy.rawValue == c.expect.p)
        case (.none, "none"), (.temperror, "temperror"), (.permerror, "permerror"): break
        default: Issue.record("got \(result), expected \(c.expect.status)")
        }
    }

    static func dns(_ build: (inout StaticResolver) -> Void) -> StaticResolver {
        var dns = StaticResolver()
        build(&dns)
        return dns
    }

    /// (name, resolver, From domain, expected result)
    static let table: [(String, StaticResolver, String, DMARCDiscoveryResult)] = [
        ("record at the From domain", dns { $0.addTXT("_dmarc.example.com", "v=DMARC1; p=reject") },
         "example.com", .found(DMARCRecord(policy: .reject), policyDomain: "example.com")),
        ("From domain is normalized", dns { $0.addTXT("_dmarc.example.com", "v=DMARC1; p=reject") },
         "EXAMPLE.Com.", .found(DMARCRecord(policy: .reject), policyDomain: "example.com")),
        ("fallback to the organizational domain after NXDOMAIN",
         dns { $0.addTXT("_dmarc.example.co.uk", "v=DMARC1; p=quarantine") },
         "a.b.example.co.uk", .found(DMARCRecord(policy: .quarantine), policyDomain: "example.co.uk")),
        ("fallback after no-data (the name exists with other types)", dns {
            $0.add("_dmarc.mail.example.com", .a(IPAddress("192.0.2.1")!))
            $0.addTXT("_dmarc.example.com", "v=DMARC1; p=none")
         }, "mail.example.com", .found(DMARCRecord(policy: .none), policyDomain: "example.com")),
        ("fallback when only non-DMARC TXT records exist", dns {
            $0.addTXT("_dmarc.mail.example.com", "v=spf1 -all")
            $0.addTXT("_dmarc.example.com", "v=DMARC1; p=none")
         }, "mail.example.com", .found(DMARCRecord(policy: .none), policyDomain: "example.com")),
        ("the subdomain's own record wins over the organizational one", dns {
            $0.addTXT("_dmarc.mail.example.com", "v=DMARC1; p=none")
            $0.addTXT("_dmarc.example.com", "v=DMARC1; p=reject")
         }, "mail.example.com", .found(DMARCRecord(policy: .none), policyDomain: "mail.example.com")),
        ("record split into several character-strings", dns {
            $0.add("_dmarc.example.com", .txt([Array("v=DMARC1; ".utf8), Array("p=reject".utf8)]))
         }, "example.com", .found(DMARCRecord(policy: .reject), policyDomain: "example.com")),
        ("no record anywhere", StaticResolver(), "mail.example.com", .none(domain: "example.com")),
        ("no record, From is the organizational domain", StaticResolver(), "example.com", .none(domain: "example.com")),
        ("two records at the From domain: none, no fallback", dns {
            $0.addTXT("_dmarc.mail.example.com", "v=DMARC1; p=none")
            $0.addTXT("_dmarc.mail.example.com", "v=DMARC1; p=reject")
            $0.addTXT("_dmarc.example.com", "v=DMARC1; p=reject")
         }, "mail.example.com", .none(domain: "mail.example.com")),
        ("malformed record: permerror, no fallback", dns {
            $0.addTXT("_dmarc.mail.example.com", "v=DMARC1; p=always")
            $0.addTXT("_dmarc.example.com", "v=DMARC1; p=reject")
         }, "mail.example.com",
         .permerror(domain: "mail.example.com", .malformedRecord(.invalidPolicy(tag: "p", value: "always")))),
        ("SERVFAIL at the From domain: temperror, no fallback", dns {
            $0.fail("_dmarc.mail.example.com", .txt, with: .serverFailure)
            $0.addTXT("_dmarc.example.com", "v=DMARC1; p=reject")
         }, "mail.example.com", .temperror(domain: "mail.example.com", .serverFailure)),
        ("timeout at the organizational domain: temperror",
         dns { $0.fail("_dmarc.example.com", .txt, with: .timeout) },
         "mail.example.com", .temperror(domain: "example.com", .timeout)),
        ("REFUSED: temperror", dns { $0.fail("_dmarc.example.com", with: .refused) },
         "example.com", .temperror(domain: "example.com", .refused)),
        ("invalid From domain", StaticResolver(), "exa mple..com",
         .permerror(domain: "exa mple..com", .invalidFromDomain("exa mple..com"))),
        ("From domain too long for a _dmarc name: treated as no record",
         StaticResolver(), Self.longDomain, .none(domain: Self.longOrganizational)),
    ]

    /// 250 octets on the wire: valid, but `_dmarc.` + it is not.
    static let longDomain = (0..<4).map { _ in String(repeating: "a", count: 60) }.joined(separator: ".") + ".com"
    static let longOrganizational = String(repeating: "a", count: 60) + ".com"

    @Test(arguments: table)
    func cases(_ name: String, _ dns: StaticResolver, _ from: String, _ expected: DMARCDiscoveryResult) async {
        #expect(await discovery.discover(fromDomain: from, resolver: dns) == expected, "\(name)")
    }

    @Test(arguments: Fixtures.externalReports.cases)
    func externalReportConformance(_ c: Fixtures.ExternalCase) async {
        let dns = Fixtures.resolver(zone: Fixtures.externalReports.zone, temperror: Fixtures.externalReports.temperror)
        let result = await discovery.externalReportAuthorization(forDomain: c.domain, destination: c.ext_domain,
                                                                 resolver: dns)
        #expect(result.accepts == c.accepts)
        switch (result, c.status) {
        case (.accepted, "none"), (.notAccepted, "none"), (.temperror, "temperror"), (.permerror, "permerror"): break
        default: Issue.record("got \(result), expected \(c.status)")
        }
    }

    @Test func externalReportRecordNeedsNoPolicyButMustParse() async {
        var dns = StaticResolver()
        dns.addTXT("example.com._report._dmarc.reports.example", "v=DMARC1; rua=mailto:x@reports.example")
        dns.addTXT("example.org._report._dmarc.reports.example", "v=DMARC1 junk")
        #expect(await discovery.externalReportAuthorization(forDomain: "EXAMPLE.com", destination: "reports.example",
                                                            resolver: dns) == .accepted)
        #expect(await discovery.externalReportAuthorization(forDomain: "example.org", destination: "reports.example",
                                                            resolver: dns) == .permerror(.missingSeparatorAfterVersion))
        #expect(await discovery.externalReportAuthorization(forDomain: "a..b", destination: "reports.example",
                                                            resolver: dns) == .notAccepted)
        #expect(throws: DMARCRecordError.missingSeparatorAfterVersion) { try DMARCRecord(parsing: "v=DMARC1") }
    }
}
