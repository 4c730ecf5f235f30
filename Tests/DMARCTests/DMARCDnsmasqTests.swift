import DMARC
import DNSCore
import DNSResolver
import Testing

/// Discovery and evaluation end to end: the real resolver against a real DNS server (dnsmasq, Debian
/// package dnsmasq-base) on loopback, serving `_dmarc` TXT records.
@Suite(.serialized)
struct DMARCDnsmasqTests {
    static let records = [
        "--txt-record=_dmarc.example.test,v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.test",
        "--txt-record=_dmarc.split.test,v=DMARC1; ,p=quarantine",            // two character-strings
        "--txt-record=_dmarc.multi.test,v=DMARC1; p=none",
        "--txt-record=_dmarc.multi.test,v=DMARC1; p=reject",
        "--txt-record=_dmarc.bad.test,v=DMARC1; p=sometimes",
        "--txt-record=_dmarc.other.test,v=spf1 -all",
    ]

    static func withServer(_ body: (DNSResolver) async throws -> Void) async throws {
        let server = try await Dnsmasq.start(records)
        defer { server.stop() }
        try await body(server.resolver(timeout: .milliseconds(1000), attempts: 2))
    }

    @Test func discovery() async throws {
        try await Self.withServer { dns in
            let discovery = DMARCPolicyDiscovery()
            var expected = DMARCRecord(policy: .reject, subdomainPolicy: .quarantine)
            expected.aggregateReportURIs = [DMARCReportURI(uri: "mailto:dmarc@example.test")]
            #expect(await discovery.discover(fromDomain: "example.test", resolver: dns)
                == .found(expected, policyDomain: "example.test"))
            // NXDOMAIN at _dmarc.mail.example.test, then the organizational domain's record.
            #expect(await discovery.discover(fromDomain: "mail.example.test", resolver: dns)
                == .found(expected, policyDomain: "example.test"))
            #expect(await discovery.discover(fromDomain: "split.test", resolver: dns)
                == .found(DMARCRecord(policy: .quarantine), policyDomain: "split.test"))
            #expect(await discovery.discover(fromDomain: "nothing.test", resolver: dns) == .none(domain: "nothing.test"))
            #expect(await discovery.discover(fromDomain: "multi.test", resolver: dns) == .none(domain: "multi.test"))
            #expect(await discovery.discover(fromDomain: "other.test", resolver: dns) == .none(domain: "other.test"))
            #expect(await discovery.discover(fromDomain: "bad.test", resolver: dns)
                == .permerror(domain: "bad.test", .malformedRecord(.invalidPolicy(tag: "p", value: "sometimes"))))
        }
    }

    @Test func evaluation() async throws {
        try await Self.withServer { dns in
            let evaluator = DMARCEvaluator()
            let forged = await evaluator.evaluate(
                fromDomain: "example.test", spf: DMARCSPFInput(result: .pass, domain: "attacker.test"),
                dkim: [DMARCDKIMInput(result: .pass, domain: "attacker.test")], resolver: dns, pctDraw: 0)
            #expect(forged.status == .fail && forged.disposition == .reject)
            #expect(forged.authenticationResult() == "dmarc=fail (p=reject sp=quarantine dis=reject) header.from=example.test")

            let signed = await evaluator.evaluate(
                fromDomain: "news.example.test", spf: DMARCSPFInput(result: .fail, domain: "attacker.test"),
                dkim: [DMARCDKIMInput(result: .pass, domain: "example.test")], resolver: dns, pctDraw: 0)
            #expect(signed.status == .pass && signed.policyDomain == "example.test")
            #expect(signed.authenticationResult() == "dmarc=pass (p=reject sp=quarantine dis=none) header.from=news.example.test")

            let subdomain = await evaluator.evaluate(fromDomain: "news.example.test", spf: nil, dkim: [],
                                                     resolver: dns, pctDraw: 0)
            #expect(subdomain.status == .fail && subdomain.disposition == .quarantine)
        }
    }

    /// No server on the port: the resolver times out or is refused, and discovery says temperror, not none.
    @Test func unreachableServerIsTemperror() async throws {
        let port = try await Dnsmasq.freePort()
        let dns = DNSResolver(servers: [DNSServerAddress("127.0.0.1:\(port)")!], timeout: .milliseconds(200),
                              attempts: 1, cacheCapacity: 0)
        let result = await DMARCPolicyDiscovery().discover(fromDomain: "example.test", resolver: dns)
        guard case .temperror(let domain, let failure) = result else {
            Issue.record("expected temperror, got \(result)")
            return
        }
        #expect(domain == "example.test" && failure.isTemporary)
        let evaluated = await DMARCEvaluator().evaluate(fromDomain: "example.test", spf: nil, dkim: [], resolver: dns, pctDraw: 0)
        #expect(evaluated.authenticationResult() == "dmarc=temperror header.from=example.test")
    }
}
