import DNSCore
import SPF
import Testing

/// check_host against hand-made zones: DNS failures, limits, address families, explanations, headers.
@Suite("check_host (RFC 7208 §4, §5, §6)")
struct SPFVerifierTests {
    static let client = IPAddress("192.0.2.10")!

    static func zone(_ records: [String: String], extra: (inout StaticResolver) -> Void = { _ in }) -> StaticResolver {
        var dns = StaticResolver()
        for (name, text) in records { dns.addTXT(try! DNSName(name), text) }
        extra(&dns)
        return dns
    }

    static func check(_ dns: StaticResolver, ip: IPAddress = client, from: String = "alice@example.com",
                      helo: String = "mail.example.com", options: SPFOptions = SPFOptions()) async -> SPFCheckResult {
        await SPFVerifier(resolver: dns, options: options).checkMailFrom(ip: ip, mailFrom: from, helo: helo)
    }

    @Test("qualifiers give their results", arguments: [
        ("+all", SPFResult.pass), ("-all", .fail), ("~all", .softfail), ("?all", .neutral), ("ip4:10.0.0.1", .neutral),
    ])
    func qualifiers(_ term: String, _ result: SPFResult) async {
        let r = await Self.check(Self.zone(["example.com": "v=spf1 \(term)"]))
        #expect(r.result == result)
    }

    @Test("no record, NXDOMAIN and an invalid domain give none")
    func none() async {
        let dns = Self.zone(["example.com": "some other text"], extra: { $0.add("nodata.example", .a(Self.client)) })
        #expect(await Self.check(dns).result == .none)
        #expect(await Self.check(dns, from: "a@nxdomain.example").result == .none)
        #expect(await Self.check(dns, from: "a@nodata.example").result == .none)
        #expect(await Self.check(dns, from: "a@localhost").result == .none)
        #expect(await Self.check(dns, from: "a@[192.0.2.10]").result == .none)
    }

    @Test("temporary DNS failures give temperror", arguments: [DNSFailure.timeout, .serverFailure, .refused])
    func temporary(_ failure: DNSFailure) async {
        var dns = Self.zone(["example.com": "v=spf1 a:broken.example.net -all", "other.example": "v=spf1 -all"])
        dns.fail("broken.example.net", with: failure)
        dns.fail("down.example", .txt, with: failure)
        let viaMechanism = await Self.check(dns)
        #expect(viaMechanism.result == .temperror)
        #expect(viaMechanism.problem?.contains("broken.example.net") == true)
        #expect(await Self.check(dns, from: "a@down.example").result == .temperror)
    }

    @Test("two SPF records are a permerror; other TXT records are ignored")
    func selection() async {
        var dns = StaticResolver()
        dns.addTXT("example.com", "v=spf1 -all")
        dns.addTXT("example.com", "v=spf1 +all")
        dns.addTXT("example.net", "google-site-verification=abc")
        dns.addTXT("example.net", "v=spf1 -all")
        #expect(await Self.check(dns).result == .permerror)
        #expect(await Self.check(dns, from: "a@example.net").result == .fail)
    }

    @Test("IPv4-mapped IPv6 clients are IPv4 (§5)")
    func mapped() async {
        let dns = Self.zone(["example.com": "v=spf1 ip6:::/0 ip4:192.0.2.0/24 -all"])
        let r = await Self.check(dns, ip: IPAddress("::ffff:192.0.2.10")!)
        #expect(r.result == .pass)
        #expect(r.mechanism == "ip4:192.0.2.0/24")
        #expect(r.ip == Self.client)
    }

    @Test("a and mx use A for IPv4 and AAAA for IPv6, with CIDR lengths")
    func addressFamilies() async {
        let dns = Self.zone(["example.com": "v=spf1 a/24//64 -all", "example.net": "v=spf1 mx//64 -all"]) { dns in
            dns.add("example.com", .a(IPAddress("192.0.2.200")!))
            dns.add("example.com", .aaaa(IPAddress("2001:db8:1::1")!))
            dns.add("example.net", .mx(preference: 10, exchange: "mx.example.net"))
            dns.add("mx.example.net", .aaaa(IPAddress("2001:db8:2::1")!))
        }
        #expect(await Self.check(dns).result == .pass)
        #expect(await Self.check(dns, ip: IPAddress("2001:db8:1::ffff")!).result == .pass)
        #expect(await Self.check(dns, ip: IPAddress("2001:db8:3::1")!).result == .fail)
        #expect(await Self.check(dns, ip: IPAddress("2001:db8:2::77")!, from: "a@example.net").result == .pass)
        #expect(await Self.check(dns, from: "a@example.net").result == .fail)
    }

    @Test("the 10-lookup limit counts includes, redirects and their terms (§4.6.4)")
    func lookupLimit() async {
        // 10 lookups: a, include, 8 x a inside → then ip4 matches.
        let atLimit = Self.zone([
            "example.com": "v=spf1 a include:inc.example.com ip4:192.0.2.10 mx -all",
            "inc.example.com": "v=spf1 a a a a a a a a",
        ], extra: Self.nonMatchingAddresses)
        #expect(await Self.check(atLimit).result == .pass)
        let overLimit = Self.zone([
            "example.com": "v=spf1 a include:inc.example.com a ip4:192.0.2.10 -all",
            "inc.example.com": "v=spf1 a a a a a a a a",
        ], extra: Self.nonMatchingAddresses)
        let r = await Self.check(overLimit)
        #expect(r.result == .permerror)
        #expect(r.problem == "more than 10 DNS lookups")
        let loop = Self.zone(["example.com": "v=spf1 redirect=example.com"])
        #expect(await Self.check(loop).result == .permerror)
    }

    /// A records that do not match the client, so that `a` lookups are not void.
    static func nonMatchingAddresses(_ dns: inout StaticResolver) {
        dns.add("example.com", .a(IPAddress("198.51.100.1")!))
        dns.add("inc.example.com", .a(IPAddress("198.51.100.2")!))
    }

    @Test("the 2 void-lookup limit (§4.6.4)")
    func voidLimit() async {
        let two = Self.zone(["example.com": "v=spf1 a:n1.example.com exists:n2.example.com ?all"])
        #expect(await Self.check(two).result == .neutral)
        let three = Self.zone(["example.com": "v=spf1 a:n1.example.com exists:n2.example.com mx:n3.example.com ?all"])
        let r = await Self.check(three)
        #expect(r.result == .permerror)
        #expect(r.problem == "more than 2 void DNS lookups")
    }

    @Test("mx: more than 10 names is a permerror; a null MX matches nothing")
    func mxLimits() async {
        let dns = Self.zone(["example.com": "v=spf1 mx -all", "example.net": "v=spf1 mx ?all",
                             "example.org": "v=spf1 mx -all"]) { dns in
            for i in 0..<11 { dns.add("example.com", .mx(preference: UInt16(i), exchange: try! DNSName("mx\(i).example.com"))) }
            for i in 0..<10 { dns.add("example.org", .mx(preference: UInt16(i), exchange: try! DNSName("mx\(i).example.org"))) }
            dns.add("mx9.example.org", .a(Self.client))
            dns.add("example.net", .mx(preference: 0, exchange: .root))
        }
        #expect(await Self.check(dns).result == .permerror)
        #expect(await Self.check(dns, from: "a@example.org").result == .pass)
        #expect(await Self.check(dns, from: "a@example.net").result == .neutral)
    }

    @Test("ptr: only the first 10 names, validated, subdomains of the target (§5.5)")
    func ptr() async {
        let reverse = ReverseName.name(for: Self.client)
        let dns = Self.zone(["example.com": "v=spf1 ptr -all", "example.net": "v=spf1 ptr:Example.NET -all"]) { dns in
            for i in 0..<10 { dns.add(reverse, .ptr(try! DNSName("h\(i).example.org"))) }
            dns.add(reverse, .ptr("mail.example.com"))  // 11th: ignored
            dns.add(reverse, .ptr("mx.EXAMPLE.net"))
            dns.add("mail.example.com", .a(Self.client))
            dns.add("mx.example.net", .a(Self.client))
        }
        #expect(await Self.check(dns).result == .fail)
        #expect(await Self.check(dns, from: "a@example.net").result == .fail)  // also past the 10th
        var short = dns
        short.records[reverse] = [DNSResourceRecord(name: reverse, ttl: 60, data: .ptr("mx.example.net")),
                                  DNSResourceRecord(name: reverse, ttl: 60, data: .ptr("mail.example.com"))]
        #expect(await Self.check(short).result == .pass)
        #expect(await Self.check(short, from: "a@example.net").result == .pass)
    }

    @Test("exp= is expanded with c, r, t and p; the default explanation is used otherwise (§6.2)")
    func explanation() async {
        let reverse = ReverseName.name(for: Self.client)
        let dns = Self.zone([
            "example.com": "v=spf1 -all exp=why.%{d}",
            "why.example.com": "%{c} is not allowed to send as %{s} (%{p}, seen by %{r} at %{t})",
            "example.net": "v=spf1 -all",
            "example.org": "v=spf1 include:example.com -all exp=org-why.example.org",
            "org-why.example.org": "org says no",
        ]) { dns in
            dns.add(reverse, .ptr("mail.example.com"))
            dns.add("mail.example.com", .a(Self.client))
        }
        let options = SPFOptions(receiver: "mx.receiver.example", timestamp: 1_767_225_600,
                                 defaultExplanation: "See https://example.test/spf?d=%{d}")
        let r = await Self.check(dns, options: options)
        #expect(r.explanation
                == "192.0.2.10 is not allowed to send as alice@example.com (mail.example.com, seen by mx.receiver.example at 1767225600)")
        #expect(await Self.check(dns, from: "a@example.net", options: options).explanation
                == "See https://example.test/spf?d=example.net")
        #expect(await Self.check(dns, from: "a@example.org", options: options).explanation == "org says no")
        #expect(await Self.check(dns, from: "a@example.net").explanation == nil)
        // Only fail has an explanation.
        let pass = Self.zone(["example.com": "v=spf1 +all exp=why.example.com"])
        #expect(await Self.check(pass, options: options).explanation == nil)
    }

    @Test("null sender: postmaster@helo; HELO identity")
    func nullSender() async {
        let dns = Self.zone(["mail.example.com": "v=spf1 ip4:192.0.2.0/24 -all"])
        let r = await Self.check(dns, from: "", helo: "mail.example.com")
        #expect(r.result == .pass)
        #expect(r.sender == "postmaster@mail.example.com")
        let helo = await SPFVerifier(resolver: dns).checkHELO(ip: IPAddress("198.51.100.1")!, helo: "mail.example.com")
        #expect(helo.result == .fail)
        #expect(helo.identity == .helo)
        #expect(helo.authenticationResultsPart == "spf=fail smtp.helo=mail.example.com")
    }

    @Test("Received-SPF and Authentication-Results rendering (§9.1, RFC 8601 §2.7.2)")
    func headers() async {
        let dns = Self.zone(["example.com": "v=spf1 ip4:192.0.2.0/24 -all", "example.net": "v=spf1 ip4:1.2.3.4 ip4:1.2.3.4/33"])
        let pass = await Self.check(dns)
        #expect(pass.receivedSPFHeader(receiver: "mx.example.org") == """
            Received-SPF: pass (mx.example.org: domain of alice@example.com designates 192.0.2.10 as permitted \
            sender) client-ip=192.0.2.10; envelope-from="alice@example.com"; helo=mail.example.com; \
            mechanism="ip4:192.0.2.0/24"; receiver=mx.example.org; identity=mailfrom;
            """)
        #expect(pass.authenticationResultsPart == "spf=pass smtp.mailfrom=alice@example.com")
        let fail = await Self.check(dns, ip: IPAddress("2001:db8::1")!, from: "\"odd (user)\"@example.com")
        #expect(fail.receivedSPFValue(receiver: "mx.example.org") == """
            fail (mx.example.org: domain of "odd \\(user\\)"@example.com does not designate 2001:db8::1 as \
            permitted sender) client-ip="2001:db8::1"; envelope-from="\\"odd (user)\\"@example.com"; \
            helo=mail.example.com; mechanism=-all; receiver=mx.example.org; identity=mailfrom;
            """)
        #expect(fail.authenticationResultsPart == "spf=fail smtp.mailfrom=example.com")
        let perm = await Self.check(dns, from: "bob@example.net")
        #expect(perm.result == .permerror)
        #expect(perm.receivedSPFValue(receiver: "mx") == """
            permerror (mx: permanent error in processing domain of example.net: example.net: invalid CIDR length \
            in ip4:1.2.3.4/33) client-ip=192.0.2.10; envelope-from="bob@example.net"; helo=mail.example.com; \
            problem="example.net: invalid CIDR length in ip4:1.2.3.4/33"; receiver=mx; identity=mailfrom;
            """)
    }
}
