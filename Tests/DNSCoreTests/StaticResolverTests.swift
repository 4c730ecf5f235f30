import DNSCore
import Testing

struct StaticResolverTests {
    static let dns: StaticResolver = {
        var dns = StaticResolver()
        dns.add("example.test", .mx(preference: 20, exchange: "mx2.example.test"))
        dns.add("example.test", .mx(preference: 10, exchange: "mx1.example.test"))
        dns.addTXT("example.test", "v=spf1 " + String(repeating: "ip4:192.0.2.1 ", count: 30) + "-all")
        dns.add("mx1.example.test", .a(IPAddress("192.0.2.1")!))
        dns.add("mx1.example.test", .aaaa(IPAddress("2001:db8::1")!))
        dns.add("www.example.test", .cname("mx1.example.test"))
        dns.add("1.2.0.192.in-addr.arpa", .ptr("mx1.example.test"))
        dns.add("9.2.0.192.in-addr.arpa", .ptr("liar.example.test"))
        dns.add("liar.example.test", .a(IPAddress("198.51.100.1")!))
        dns.fail("broken.test", with: .serverFailure)
        dns.fail("slow.test", .txt, with: .timeout)
        dns.add("slow.test", .a(IPAddress("192.0.2.99")!))
        return dns
    }()

    @Test func mxSortedByPreference() async {
        let mx = try? await Self.dns.mx("example.test").get()
        #expect(mx?.map(\.exchange.description) == ["mx1.example.test", "mx2.example.test"])
    }

    @Test func txtJoinsStrings() async throws {
        let txt = try await Self.dns.txt("EXAMPLE.test").get()
        #expect(txt.count == 1)
        #expect(txt[0].hasPrefix("v=spf1 ip4:192.0.2.1 ") && txt[0].hasSuffix("-all"))
        let raw = await Self.dns.lookup("example.test", .txt).answer?.data.first
        guard case .txt(let strings) = raw else { Issue.record("no TXT"); return }
        #expect(strings.count == 2 && strings[0].count == 255)
    }

    @Test(arguments: [
        ("nonexistent.test", DNSRecordType.a, DNSLookupResult.nxdomain),
        ("example.test", .aaaa, .noData),
        ("broken.test", .a, .serverFailure),
        ("slow.test", .txt, .timeout),
    ])
    func failuresStayDistinct(_ name: String, _ type: DNSRecordType, _ expected: DNSLookupResult) async {
        #expect(await Self.dns.lookup(name, type) == expected)
    }

    @Test func followsCNAME() async throws {
        let answer = try #require(await Self.dns.lookup("www.example.test", .a).answer)
        #expect(answer.canonicalName == "mx1.example.test")
        #expect(answer.cnameChain.count == 1)
    }

    @Test func addresses() async throws {
        #expect(try await Self.dns.addresses("mx1.example.test").get().map(\.description) == ["2001:db8::1", "192.0.2.1"])
        #expect(await Self.dns.addresses("nonexistent.test") == .failure(.nxdomain))
        #expect(await Self.dns.addresses("example.test") == .failure(.noData))
        #expect(await Self.dns.addresses("broken.test") == .failure(.serverFailure))
    }

    @Test func reverseAndForwardConfirmed() async throws {
        let good = try #require(IPAddress("192.0.2.1"))
        #expect(try await Self.dns.ptr(for: good).get() == ["mx1.example.test"])
        #expect(try await Self.dns.forwardConfirmedReverse(ip: good).get() == ["mx1.example.test"])
        let liar = try #require(IPAddress("192.0.2.9"))
        #expect(try await Self.dns.forwardConfirmedReverse(ip: liar).get() == [])
        #expect(await Self.dns.forwardConfirmedReverse(ip: IPAddress("192.0.2.200")!) == .failure(.nxdomain))
    }

    @Test func failureKinds() {
        #expect(DNSFailure.nxdomain.isTemporary == false)
        #expect(DNSFailure.noData.isTemporary == false)
        #expect(DNSFailure.serverFailure.isTemporary && DNSFailure.timeout.isTemporary && DNSFailure.refused.isTemporary)
    }
}
