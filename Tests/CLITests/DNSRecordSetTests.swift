import DKIM
import DNSCore
import Foundation
import Testing
@testable import CLI

/// The records `apus dns records` prints (`Sources/CLI/DNSRecordsCommand.swift`), built without files or clock.
@Suite struct DNSRecordSetTests {
    /// 2026-11-30 10:20:30 UTC.
    static let now = Date(timeIntervalSince1970: 1_796_034_030)

    static func set(hostname: String = "mx.example.com", addresses: [String] = [], keys: [DKIMSigningKey] = []) -> DNSRecordSet {
        DNSRecordSet(domain: "example.com", hostname: hostname, addresses: addresses.compactMap(IPAddress.init),
                     dkimKeys: keys, configDirectory: "/etc/apus", now: now)
    }

    static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func recordsWithoutAddresses() {
        let records = Self.set()
        let zone = Self.lines(records.zoneSnippet())
        #expect(zone.contains("example.com. 3600 IN MX 10 mx.example.com."))
        #expect(zone.contains(#"example.com. 3600 IN TXT "v=spf1 mx -all""#))
        #expect(zone.contains(#"mx.example.com. 3600 IN TXT "v=spf1 a -all""#))
        #expect(zone.contains(#"_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com""#))
        #expect(zone.contains(#"_mta-sts.example.com. 3600 IN TXT "v=STSv1; id=\#(records.mtaSTSID)""#))
        #expect(records.mtaSTSID.count == 16)
        #expect(zone.contains(#"_smtp._tls.example.com. 3600 IN TXT "v=TLSRPTv1; rua=mailto:postmaster@example.com""#))
        // The placeholders are comments, so the snippet still loads.
        #expect(zone.contains("; mx.example.com. 3600 IN A <IPv4 address of this server>"))
        #expect(zone.contains("; mx.example.com. 3600 IN AAAA <IPv6 address of this server>"))
        #expect(!zone.contains { $0.contains(" IN A ") && !$0.hasPrefix(";") })
        #expect(zone.contains { $0.hasPrefix(";") && $0.contains("no keys in /etc/apus/domains/example.com/dkim") })
        // Every line is a record, a comment or empty.
        for line in zone where !line.isEmpty && !line.hasPrefix(";") {
            #expect(line.contains(". 3600 IN "), "not a record: \(line)")
        }
    }

    @Test func addressesGoIntoARecordsSPFAndPTR() {
        let records = Self.set(addresses: ["203.0.113.7", "2001:db8::7"])
        let zone = Self.lines(records.zoneSnippet())
        #expect(zone.contains("mx.example.com. 3600 IN A 203.0.113.7"))
        #expect(zone.contains("mx.example.com. 3600 IN AAAA 2001:db8::7"))
        #expect(zone.contains(#"example.com. 3600 IN TXT "v=spf1 ip4:203.0.113.7 ip6:2001:db8::7 mx -all""#))
        #expect(!zone.contains { $0.contains("<IPv4 address") })
        #expect(zone.contains(";   7.113.0.203.in-addr.arpa. PTR mx.example.com.   (for 203.0.113.7)"))
        #expect(zone.contains(";   7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR mx.example.com.   (for 2001:db8::7)"))
    }

    /// One name may have only one SPF record (RFC 7208 §3.2): no host-name SPF when the host is the domain.
    @Test func hostNameEqualToDomainGetsOneSPFRecord() {
        let records = Self.set(hostname: "example.com")
        #expect(records.heloSPF == nil)
        let spf = records.records.filter { $0.plainValue.hasPrefix("v=spf1") }
        #expect(spf.map(\.name) == ["example.com"])
        #expect(records.mx.zoneLine == "example.com. 3600 IN MX 10 example.com.")
    }

    @Test func hostOutsideTheDomainIsPointedOut() {
        let zone = Self.set(hostname: "mail.provider.example").zoneSnippet()
        #expect(zone.contains("; mail.provider.example is not in example.com: publish these in the zone of mail.provider.example."))
        #expect(zone.contains("example.com. 3600 IN MX 10 mail.provider.example."))
    }

    @Test func mtaSTSPolicyNamesTheHost() {
        let records = Self.set()
        #expect(records.mtaSTSPolicy == ["version: STSv1", "mode: testing", "mx: mx.example.com", "max_age: 604800"])
        #expect(records.zoneSnippet().contains(";   mx: mx.example.com\n"))
        #expect(records.zoneSnippet().contains("https://mta-sts.example.com/.well-known/mta-sts.txt"))
    }

    /// RFC 8461 §3.1: the TXT id changes when the served policy changes, and only then.
    @Test func mtaSTSIDFollowsThePolicy() {
        var later = Self.set()
        later.now = Self.now.addingTimeInterval(86400)
        #expect(later.mtaSTSID == Self.set().mtaSTSID)
        var enforcing = Self.set()
        enforcing.mtaSTSSettings.mode = "enforce"
        #expect(enforcing.mtaSTSID != Self.set().mtaSTSID)
        #expect(enforcing.mtaSTSPolicy.contains("mode: enforce"))
        var otherMX = Self.set()
        otherMX.mtaSTSSettings.mx = ["mx1.example.com", "mx2.example.com"]
        #expect(otherMX.mtaSTSID != Self.set().mtaSTSID)
    }

    @Test func dkimRecordsSplitAndComplete() throws {
        let keys = [try DKIMSigningKey.generate(.ed25519, domain: "example.com", selector: "apus-ed25519"),
                    try DKIMSigningKey.generate(.rsa2048, domain: "example.com", selector: "apus-rsa")]
        let records = Self.set(keys: keys)
        #expect(records.dkim.map(\.zoneLine) == keys.map { $0.zoneFileLine() })
        for record in records.records {
            guard case .txt(let strings) = record.data else { continue }
            #expect(strings.allSatisfy { $0.utf8.count <= 255 }, "\(record.name)")
        }
    }

    @Test func tableHasPlaceholderRowsAndNotes() {
        let table = Self.set(addresses: ["203.0.113.7"]).table()
        let lines = Self.lines(table)
        #expect(lines[0].hasPrefix("NAME"))
        #expect(lines[1] == "example.com             MX    10 mx.example.com")
        #expect(lines[2] == "mx.example.com          A     203.0.113.7")
        #expect(lines[3].hasPrefix("mx.example.com          AAAA  <IPv6 address"))
        #expect(lines.contains("_dmarc.example.com      TXT   v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com"))
        #expect(lines.contains("      7.113.0.203.in-addr.arpa. PTR mx.example.com.   (for 203.0.113.7)"))
    }

    static let domains: [(String, String?)] = [
        ("example.com", "example.com"),
        ("Example.COM.", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("localhost", nil),
        ("-bad.example", nil),
        ("a..b", nil),
        ("", nil),
    ]

    @Test(arguments: domains)
    func domainArguments(text: String, expected: String?) {
        #expect((try? DomainArgument.normalize(text)) == expected)
    }

    static let globalAddresses: [(String, Bool)] = [
        ("203.0.113.7", true), ("8.8.8.8", true), ("10.1.2.3", false), ("192.168.1.1", false), ("172.20.0.1", false),
        ("172.32.0.1", true), ("127.0.0.1", false), ("100.64.0.1", false), ("169.254.1.1", false), ("224.0.0.1", false),
        ("2001:db8::1", true), ("::1", false), ("fd00::1", false), ("fe80::1", false), ("2a01:4f8::1", true),
    ]

    @Test(arguments: globalAddresses)
    func publicAddresses(text: String, global: Bool) throws {
        #expect(DomainArgument.isGlobal(try #require(IPAddress(text))) == global)
    }

    @Test func addressOptions() throws {
        let ips = try DomainArgument.addresses(ipv4: ["2001:db8::1", "192.0.2.1", "192.0.2.1"], ipv6: ["2001:DB8::1"])
        #expect(ips.map(\.description) == ["192.0.2.1", "2001:db8::1"])
        #expect(throws: (any Error).self) { try DomainArgument.addresses(ipv4: [], ipv6: ["192.0.2.1"]) }
        #expect(throws: (any Error).self) { try DomainArgument.addresses(ipv4: ["mx.example.com"], ipv6: []) }
    }
}
