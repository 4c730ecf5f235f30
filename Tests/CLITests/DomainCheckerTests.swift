@testable import CLI
import DKIM
import DNSCore
import Foundation
import Testing

/// The DNS checks of `apus check` over a fixed table of records: one good setup, then one change per row
/// and the finding it must produce. (CheckCommandTests runs the whole command against a real NSD.)
@Suite struct DomainCheckerTests {
    static let key = try! DKIMSigningKey.generate(.ed25519, domain: "example.com", selector: "s1")
    static let ip = IPAddress("192.0.2.10")!

    /// example.com with every record `apus dns records` would print for mx.example.com at 192.0.2.10.
    static func goodDNS() -> StaticResolver {
        var dns = StaticResolver()
        dns.add("example.com", .mx(preference: 10, exchange: "mx.example.com"))
        dns.add("mx.example.com", .a(ip))
        dns.add("10.2.0.192.in-addr.arpa", .ptr("mx.example.com"))
        dns.addTXT("example.com", "v=spf1 ip4:192.0.2.10 mx -all")
        dns.addTXT("mx.example.com", "v=spf1 a -all")
        dns.addTXT("s1._domainkey.example.com", key.txtRecord)
        dns.addTXT("_dmarc.example.com", "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com")
        dns.addTXT("_smtp._tls.example.com", "v=TLSRPTv1; rua=mailto:postmaster@example.com")
        return dns
    }

    static func checker(_ dns: StaticResolver, declared: [IPAddress] = [ip]) -> DomainChecker {
        DomainChecker(domain: "example.com", hostname: "mx.example.com", dns: dns, dkimKeys: [key],
                      dkimDirectory: "/etc/apus/domains/example.com/dkim", declaredAddresses: declared)
    }

    @Test func goodSetupHasOnlyPasses() async {
        let (findings, addresses) = await Self.checker(Self.goodDNS()).checkRecords()
        #expect(findings.allSatisfy { $0.status == .ok }, "\(findings.filter { $0.status != .ok })")
        #expect(Set(findings.map(\.check)) == ["mx", "address", "ptr", "spf", "spf-helo", "dkim", "dmarc", "tls-rpt"])
        #expect(addresses.ours == [Self.ip])
    }

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var change: @Sendable (inout StaticResolver) -> Void
        var check: String
        var status: CheckFinding.Status
        var message: String
    }

    static func txt(_ name: DNSName, _ texts: String...) -> @Sendable (inout StaticResolver) -> Void {
        { dns in
            dns.records[name] = dns.records[name]?.filter { if case .txt = $0.data { false } else { true } }
            for text in texts { dns.addTXT(name, text) }
        }
    }

    static let cases: [Case] = [
        Case(description: "no MX", change: { $0.records["example.com"] = $0.records["example.com"]?.filter { if case .mx = $0.data { false } else { true } } },
             check: "mx", status: .problem, message: "example.com has no MX record"),
        Case(description: "null MX", change: { $0.add("example.com", .mx(preference: 0, exchange: .root)) },
             check: "mx", status: .problem, message: "example.com has a null MX"),
        Case(description: "MX elsewhere", change: { dns in
                 dns.records["example.com"] = dns.records["example.com"]?.filter { if case .mx = $0.data { false } else { true } }
                 dns.add("example.com", .mx(preference: 10, exchange: "mail.other.example"))
             }, check: "mx", status: .problem, message: "MX of example.com is mail.other.example (preference 10), not this server"),
        Case(description: "another MX first", change: { $0.add("example.com", .mx(preference: 5, exchange: "backup.example.net")) },
             check: "mx", status: .warning, message: "MX of example.com: mx.example.com has preference 10, but backup.example.net is tried first"),
        Case(description: "host name is a CNAME", change: { dns in
                 dns.records["mx.example.com"] = nil
                 dns.add("mx.example.com", .cname("host.example.net"))
                 dns.add("host.example.net", .a(ip))
             }, check: "address", status: .problem, message: "mx.example.com is a CNAME (to host.example.net)"),
        Case(description: "A of another server", change: { dns in
                 dns.add("mx.example.com", .a(IPAddress("198.51.100.7")!))
             }, check: "address", status: .problem, message: "mx.example.com A 198.51.100.7 is not this server"),
        Case(description: "our address not published", change: { dns in
                 dns.records["mx.example.com"] = nil
                 dns.add("mx.example.com", .a(IPAddress("198.51.100.7")!))
             }, check: "address", status: .problem, message: "this server's address 192.0.2.10 is not in the A records of mx.example.com"),
        Case(description: "no PTR", change: { $0.records["10.2.0.192.in-addr.arpa"] = nil },
             check: "ptr", status: .problem, message: "192.0.2.10 has no reverse DNS"),
        Case(description: "PTR elsewhere", change: { dns in
                 dns.records["10.2.0.192.in-addr.arpa"] = nil
                 dns.add("10.2.0.192.in-addr.arpa", .ptr("static-10.provider.example"))
             }, check: "ptr", status: .problem, message: "reverse DNS of 192.0.2.10 is static-10.provider.example, not mx.example.com"),
        Case(description: "no SPF", change: txt("example.com"),
             check: "spf", status: .problem, message: "example.com has no SPF record"),
        Case(description: "two SPF records", change: txt("example.com", "v=spf1 mx -all", "v=spf1 ip4:192.0.2.10 -all"),
             check: "spf", status: .problem, message: "example.com has 2 SPF records"),
        Case(description: "SPF +all", change: txt("example.com", "v=spf1 +all"),
             check: "spf", status: .problem, message: "SPF of example.com ends in +all"),
        Case(description: "SPF softfail for us", change: txt("example.com", "v=spf1 ip4:198.51.100.0/24 ~all"),
             check: "spf", status: .problem, message: "SPF of example.com does not authorize 192.0.2.10 (softfail)"),
        Case(description: "SPF invalid", change: txt("example.com", "v=spf1 ip4:300.1.2.3 -all"),
             check: "spf", status: .problem, message: "SPF record of example.com is invalid"),
        Case(description: "SPF over the lookup limit", change: { dns in
                 txt("example.com", "v=spf1 include:i1.example.com -all")(&dns)
                 for n in 1...11 { dns.addTXT(try! DNSName("i\(n).example.com"), "v=spf1 include:i\(n + 1).example.com") }
             }, check: "spf", status: .problem, message: "SPF of example.com is broken: permerror for 192.0.2.10"),
        Case(description: "SPF SERVFAIL", change: { $0.fail("example.com", .txt, with: .serverFailure) },
             check: "spf", status: .problem, message: "SPF of example.com: the DNS lookup failed (SERVFAIL)"),
        Case(description: "SPF timeout", change: { $0.fail("example.com", .txt, with: .timeout) },
             check: "spf", status: .warning, message: "SPF of example.com: cannot check"),
        Case(description: "no SPF for the host name", change: txt("mx.example.com"),
             check: "spf-helo", status: .warning, message: "mx.example.com has no SPF record"),
        Case(description: "DKIM missing", change: txt("s1._domainkey.example.com"),
             check: "dkim", status: .problem, message: "s1._domainkey.example.com has no TXT record"),
        Case(description: "DKIM revoked", change: txt("s1._domainkey.example.com", "v=DKIM1; k=ed25519; p="),
             check: "dkim", status: .problem, message: "s1._domainkey.example.com has an empty p="),
        Case(description: "DKIM key type", change: txt("s1._domainkey.example.com", "v=DKIM1; k=rsa; p=\(key.publicKeyBase64)"),
             check: "dkim", status: .problem, message: "s1._domainkey.example.com says k=rsa"),
        Case(description: "DKIM testing", change: txt("s1._domainkey.example.com", key.txtRecord + "; t=y"),
             check: "dkim", status: .warning, message: "s1._domainkey.example.com matches"),
        Case(description: "DKIM not a record", change: txt("s1._domainkey.example.com", "v=DKIM1; k=ed25519"),
             check: "dkim", status: .problem, message: "s1._domainkey.example.com is not a valid DKIM key record"),
        Case(description: "no DMARC", change: txt("_dmarc.example.com"),
             check: "dmarc", status: .problem, message: "example.com has no DMARC record"),
        Case(description: "DMARC p=none", change: txt("_dmarc.example.com", "v=DMARC1; p=none"),
             check: "dmarc", status: .warning, message: "DMARC of example.com is p=none (no rua=, so no reports)"),
        Case(description: "DMARC invalid", change: txt("_dmarc.example.com", "v=DMARC1; p=bogus"),
             check: "dmarc", status: .problem, message: "DMARC record of example.com is invalid"),
        Case(description: "two DMARC records", change: txt("_dmarc.example.com", "v=DMARC1; p=none", "v=DMARC1; p=reject"),
             check: "dmarc", status: .problem, message: "_dmarc.example.com has 2 DMARC records"),
        Case(description: "no TLS-RPT", change: txt("_smtp._tls.example.com"),
             check: "tls-rpt", status: .warning, message: "example.com has no TLS-RPT record"),
    ]

    @Test(arguments: cases)
    func brokenRecordGivesFinding(_ row: Case) async {
        var dns = Self.goodDNS()
        row.change(&dns)
        let (findings, _) = await Self.checker(dns).checkRecords()
        let hit = findings.first { $0.check == row.check && $0.status == row.status && $0.message.hasPrefix(row.message) }
        #expect(hit != nil, "\(row): \(findings.filter { $0.status != .ok }.map { "\($0.status.symbol) \($0.message)" })")
        if row.status == .problem { #expect(hit?.fix?.isEmpty == false, "a problem without a fix: \(row)") }
    }

    /// A published 1024-bit RSA key (migrated from OpenDKIM) is a warning with the rotation steps, not a pass.
    @Test func weakRSAKeyIsAdvisedForRotation() async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("DKIMTests/Fixtures/apus/rsa1024.pem")
        let weak = try DKIMSigningKey(pem: String(contentsOf: fixture, encoding: .utf8), domain: "example.com", selector: "old")
        var dns = Self.goodDNS()
        dns.addTXT("old._domainkey.example.com", weak.txtRecord)
        let checker = DomainChecker(domain: "example.com", hostname: "mx.example.com", dns: dns, dkimKeys: [Self.key, weak],
                                    dkimDirectory: "/etc/apus/domains/example.com/dkim", declaredAddresses: [Self.ip])
        let (findings, _) = await checker.checkRecords()
        let hit = findings.first { $0.check == "dkim" && $0.status == .warning }
        #expect(hit?.message == "old._domainkey.example.com matches /etc/apus/domains/example.com/dkim/old.pem, but it is a weak RSA-1024 key (RFC 8301: at least 2048 bits)",
                "\(findings)")
        #expect(hit?.fix?.contains("apus dkim keygen example.com --selector NEW") == true)
    }

    @Test func addressBehindNATIsAWarningAndStillChecked() async {
        var checker = Self.checker(Self.goodDNS(), declared: [])
        checker.isLocal = { _ in false }
        checker.publicInterfaceAddresses = []
        let (findings, addresses) = await checker.checkRecords()
        #expect(findings.contains { $0.check == "address" && $0.status == .warning && $0.message.contains("NAT") })
        #expect(addresses.ours == [Self.ip])
        #expect(findings.contains { $0.check == "spf" && $0.status == .ok })
    }

    @Test func addressOfThisMachineIsRecognised() async {
        var checker = Self.checker(Self.goodDNS(), declared: [])
        checker.isLocal = { $0 == Self.ip }
        let (findings, _) = await checker.checkRecords()
        #expect(findings.contains { $0.message == "mx.example.com A 192.0.2.10 is an address of this machine" })
    }

    @Test func missingAddressRecordsAreOneProblemNamingEveryAddress() async {
        var dns = Self.goodDNS()
        dns.records["mx.example.com"] = dns.records["mx.example.com"]?.filter { if case .a = $0.data { false } else { true } }
        let v6 = IPAddress("2001:db8::10")!
        let (findings, addresses) = await Self.checker(dns, declared: [Self.ip, v6]).checkRecords()
        let problems = findings.filter { $0.check == "address" && $0.status == .problem }
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.fix == "publish: mx.example.com. 3600 IN A 192.0.2.10  and  mx.example.com. 3600 IN AAAA 2001:db8::10")
        #expect(addresses.ours == [Self.ip, v6])
    }

    @Test func subdomainInheritsTheOrganizationalDMARCRecord() async {
        var dns = StaticResolver()
        dns.addTXT("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine")
        let checker = DomainChecker(domain: "mail.example.com", hostname: "mx.example.com", dns: dns, dkimKeys: [],
                                    dkimDirectory: "/d")
        let findings = await checker.checkDMARC()
        #expect(findings.map(\.status) == [.ok])
        #expect(findings.first?.message == "DMARC: no record at _dmarc.mail.example.com; the one of example.com applies to it: sp=quarantine")

        var none = StaticResolver()
        none.addTXT("_dmarc.example.com", "v=DMARC1; p=none")
        let weak = await DomainChecker(domain: "mail.example.com", hostname: "mx.example.com", dns: none, dkimKeys: [],
                                       dkimDirectory: "/d").checkDMARC()
        #expect(weak.map(\.status) == [.warning])
    }

    @Test func reportTextAndJSON() throws {
        let report = CheckReport(domain: "example.com", hostname: "mx.example.com", dnsServers: ["127.0.0.1:53"], findings: [
            .ok("mx", "MX: example.com → mx.example.com (preference 10)"),
            .problem("dmarc", "example.com has no DMARC record", fix: "publish: x"),
            .warning("tls-rpt", "no TLS-RPT"),
        ])
        let lines = report.text().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.contains("✗ example.com has no DMARC record"))
        #expect(lines.contains("    fix: publish: x"))
        #expect(lines.contains("! no TLS-RPT"))
        #expect(report.text().contains("3 checks: 1 problem (✗), 1 warning (!)."))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(json["passed"] as? Bool == false)
        #expect(json["problems"] as? Int == 1)
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.map { $0["symbol"] as? String } == ["✓", "✗", "!"])
        #expect(findings[1]["fix"] as? String == "publish: x")
    }
}

/// An IPv6 address without matching reverse DNS: the fix also says how to send over IPv4 meanwhile.
@Suite struct IPv6ReverseDNSAdviceTests {
    @Test func adviseIPv4Only() async {
        let v6 = IPAddress("2001:db8::10")!
        var dns = DomainCheckerTests.goodDNS()
        dns.add("mx.example.com", .aaaa(v6))
        let (findings, _) = await DomainCheckerTests.checker(dns, declared: [DomainCheckerTests.ip, v6]).checkRecords()
        let ptr = findings.first { $0.check == "ptr" && $0.message.contains("2001:db8::10") }
        #expect(ptr?.status == .problem)
        #expect(ptr?.fix?.contains("[delivery] ip_version = \"ipv4\"") == true, "\(String(describing: ptr))")
        let v4 = findings.first { $0.check == "ptr" && $0.message.contains("192.0.2.10") }
        #expect(v4?.status == .ok)
    }
}
