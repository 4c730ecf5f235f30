import DMARC
import DNSCore
import Testing

struct DMARCEvaluatorTests {
    let evaluator = DMARCEvaluator()

    @Test(arguments: Fixtures.evaluation.cases)
    func conformance(_ c: Fixtures.EvaluationCase) async {
        let dns = Fixtures.resolver(zone: Fixtures.evaluation.zone, temperror: Fixtures.evaluation.temperror)
        let spf = c.spf_domain.map { DMARCSPFInput(result: DMARCAuthStatus(rawValue: c.spf_result)!, domain: $0) }
        let dkim = c.dkim_results.map { DMARCDKIMInput(result: DMARCAuthStatus(rawValue: $0.result)!, domain: $0.d) }
        for draw in [0, 50, 99] {   // the vectors hold for any pct draw
            let r = await evaluator.evaluate(fromDomain: c.from_domain, spf: spf, dkim: dkim, resolver: dns, pctDraw: draw)
            #expect(r.status.rawValue == c.expect.dmarc_result)
            #expect((r.status == .fail && r.requestedPolicy == .reject) == c.expect.reject)
            #expect(r.alignedSPFPass == c.expect.aligned_spf_pass)
            #expect(r.alignedDKIMPass == c.expect.aligned_dkim_pass)
            #expect(r.policyDomain == c.expect.policy_domain)
            #expect(r.policyApplies == c.expect.apply_result)
        }
    }

    static let zone: StaticResolver = {
        var dns = StaticResolver()
        dns.addTXT("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine; pct=30")
        dns.addTXT("_dmarc.example.org", "v=DMARC1; p=quarantine; adkim=s")
        dns.addTXT("_dmarc.example.net", "v=DMARC1; p=reject")
        dns.fail("_dmarc.broken.example", .txt, with: .serverFailure)
        dns.addTXT("_dmarc.bad.example", "v=DMARC1; p=reject; pct=200")
        return dns
    }()

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var from: String
        var spf: DMARCSPFInput?
        var dkim: [DMARCDKIMInput] = []
        var draw = 0
        var status: DMARCResult.Status
        var requested: DMARCPolicy?
        var disposition: DMARCPolicy = .none
        var header: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "aligned DKIM pass", from: "example.net", dkim: [.init(result: .pass, domain: "example.net")],
             status: .pass, requested: .reject, header: "dmarc=pass (p=reject dis=none) header.from=example.net"),
        Case(name: "aligned SPF pass via subdomain (relaxed)", from: "example.net",
             spf: .init(result: .pass, domain: "bounce.example.net"),
             status: .pass, requested: .reject, header: "dmarc=pass (p=reject dis=none) header.from=example.net"),
        Case(name: "SPF pass for another domain, DKIM fail: fail, reject", from: "example.net",
             spf: .init(result: .pass, domain: "example.org"), dkim: [.init(result: .fail, domain: "example.net")],
             status: .fail, requested: .reject, disposition: .reject,
             header: "dmarc=fail (p=reject dis=reject) header.from=example.net"),
        Case(name: "aligned SPF softfail is no pass", from: "example.net",
             spf: .init(result: .softfail, domain: "example.net"),
             status: .fail, requested: .reject, disposition: .reject,
             header: "dmarc=fail (p=reject dis=reject) header.from=example.net"),
        Case(name: "second signature aligns", from: "example.net",
             dkim: [.init(result: .pass, domain: "mailer.example"), .init(result: .pass, domain: "news.example.net")],
             status: .pass, requested: .reject, header: "dmarc=pass (p=reject dis=none) header.from=example.net"),
        Case(name: "adkim=s: subdomain d= does not align", from: "example.org",
             dkim: [.init(result: .pass, domain: "mail.example.org")],
             status: .fail, requested: .quarantine, disposition: .quarantine,
             header: "dmarc=fail (p=quarantine dis=quarantine) header.from=example.org"),
        Case(name: "subdomain gets sp; pct draw inside 30%", from: "news.example.com", draw: 29,
             status: .fail, requested: .quarantine, disposition: .quarantine,
             header: "dmarc=fail (p=reject sp=quarantine dis=quarantine) header.from=news.example.com"),
        Case(name: "subdomain gets sp; pct draw outside 30%: quarantine → none", from: "news.example.com", draw: 30,
             status: .fail, requested: .quarantine, disposition: .none,
             header: "dmarc=fail (p=reject sp=quarantine dis=none) header.from=news.example.com"),
        Case(name: "organizational domain gets p; pct draw outside: reject → quarantine", from: "example.com",
             draw: 99, status: .fail, requested: .reject, disposition: .quarantine,
             header: "dmarc=fail (p=reject sp=quarantine dis=quarantine) header.from=example.com"),
        Case(name: "organizational domain, pct draw inside: reject", from: "Example.COM", draw: 0,
             status: .fail, requested: .reject, disposition: .reject,
             header: "dmarc=fail (p=reject sp=quarantine dis=reject) header.from=example.com"),
        Case(name: "temperror on an unaligned domain does not help", from: "example.net",
             spf: .init(result: .temperror, domain: "example.org"),
             status: .fail, requested: .reject, disposition: .reject,
             header: "dmarc=fail (p=reject dis=reject) header.from=example.net"),
        Case(name: "DNS failure during discovery", from: "broken.example",
             dkim: [.init(result: .pass, domain: "broken.example")],
             status: .temperror, header: "dmarc=temperror header.from=broken.example"),
        Case(name: "malformed record", from: "bad.example", status: .permerror,
             header: "dmarc=permerror header.from=bad.example"),
        Case(name: "no record", from: "nothing.example", spf: .init(result: .pass, domain: "nothing.example"),
             status: .none, header: "dmarc=none header.from=nothing.example"),
        Case(name: "unicode From domain compared as A-labels", from: "bücher.example",
             status: .none, header: "dmarc=none header.from=xn--bcher-kva.example"),
        Case(name: "invalid From domain is quoted in the header", from: "a b\"c",
             status: .permerror, header: "dmarc=permerror header.from=\"a b\\\"c\""),
    ]

    @Test(arguments: cases)
    func table(_ c: Case) async {
        let r = await evaluator.evaluate(fromDomain: c.from, spf: c.spf, dkim: c.dkim, resolver: Self.zone, pctDraw: c.draw)
        #expect(r.status == c.status)
        #expect(r.requestedPolicy == c.requested)
        #expect(r.disposition == c.disposition)
        #expect(r.authenticationResult() == c.header)
    }

    @Test func localConfigurationOverridesDisposition() async {
        let r = await evaluator.evaluate(fromDomain: "example.net", spf: nil, dkim: [], resolver: Self.zone, pctDraw: 0)
        #expect(r.authenticationResult(disposition: DMARCPolicy.none) == "dmarc=fail (p=reject dis=none) header.from=example.net")
        #expect(r.reason == nil)
    }

    @Test func randomDrawFromGenerator() async {
        struct Fixed: RandomNumberGenerator { var value: UInt64; mutating func next() -> UInt64 { value } }
        var low = Fixed(value: 1 << 20)   // not 0: the generator would reject it and draw again, forever
        var high = Fixed(value: .max)
        let a = await evaluator.evaluate(fromDomain: "example.com", spf: nil, dkim: [], resolver: Self.zone, using: &low)
        let b = await evaluator.evaluate(fromDomain: "example.com", spf: nil, dkim: [], resolver: Self.zone, using: &high)
        #expect(a.disposition == .reject && !a.sampledOut)
        #expect(b.disposition == .quarantine && b.sampledOut)
    }

    @Test func pctDrawOnlyMattersForFailures() async {
        let r = await evaluator.evaluate(fromDomain: "example.com", spf: nil,
                                         dkim: [.init(result: .pass, domain: "example.com")], resolver: Self.zone, pctDraw: 99)
        #expect(r.status == .pass && !r.sampledOut && r.policyApplies && r.disposition == .none)
        #expect(r.alignedDKIMDomain == "example.com")
    }
}
