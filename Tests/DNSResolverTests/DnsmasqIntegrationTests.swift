import DNSCore
import DNSResolver
import Testing

/// The resolver against a real DNS server (dnsmasq) on loopback.
struct DnsmasqIntegrationTests {
    /// 3 character-strings of 250 bytes: 753 bytes of RDATA, more than the 512 bytes dnsmasq is told to
    /// send over UDP (`--edns-packet-max=512`), so the UDP reply has TC=1 and the resolver must use TCP.
    static let bigStrings = ["a", "b", "c"].map { String(repeating: $0, count: 250) }
    static let dkimParts = ["v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
                            "x7Gq2Tn4Y0U1dV8fB3kR", "tail=end"]

    static let records = [
        "--host-record=host.example.test,192.0.2.1,2001:db8::1",
        "--host-record=v4only.example.test,192.0.2.2",
        "--mx-host=example.test,mx2.example.test,20",
        "--mx-host=example.test,mx1.example.test,10",
        "--host-record=mx1.example.test,192.0.2.11",
        "--txt-record=example.test,v=spf1 ip4:192.0.2.0/24 -all",
        "--txt-record=sel._domainkey.example.test," + dkimParts.joined(separator: ","),
        "--txt-record=big.example.test," + bigStrings.joined(separator: ","),
        "--cname=www.example.test,web.example.test",
        "--cname=web.example.test,host.example.test",
        "--ptr-record=5.2.0.192.in-addr.arpa,mail.example.test",
        "--host-record=mail.example.test,192.0.2.5",
        "--ptr-record=6.2.0.192.in-addr.arpa,liar.example.test",
        "--host-record=liar.example.test,192.0.2.99",
    ]

    static func withServer(_ body: (DNSResolver) async throws -> Void) async throws {
        let server = try await Dnsmasq.start(records)
        defer { server.stop() }
        try await body(server.resolver(timeout: .milliseconds(1000), attempts: 2))
    }

    @Test func addressRecords() async throws {
        try await Self.withServer { dns in
            #expect(await dns.lookup("host.example.test", .a).answer?.data == [.a(IPAddress("192.0.2.1")!)])
            #expect(await dns.lookup("HOST.Example.Test.", .aaaa).answer?.data == [.aaaa(IPAddress("2001:db8::1")!)])
            #expect(try await dns.addresses("host.example.test").get().map(\.description) == ["2001:db8::1", "192.0.2.1"])
            #expect(try await dns.addresses("v4only.example.test").get().map(\.description) == ["192.0.2.2"])
            let answer = try #require(await dns.lookup("host.example.test", .a).answer)
            #expect(answer.ttl == 300)
            #expect(answer.authenticatedData == false)
        }
    }

    @Test func mx() async throws {
        try await Self.withServer { dns in
            let mx = try await dns.mx("example.test").get()
            #expect(mx == [MXRecord(preference: 10, exchange: "mx1.example.test"),
                           MXRecord(preference: 20, exchange: "mx2.example.test")])
        }
    }

    @Test func txtWithSplitStrings() async throws {
        try await Self.withServer { dns in
            #expect(try await dns.txt("example.test").get() == ["v=spf1 ip4:192.0.2.0/24 -all"])
            let raw = try #require(await dns.lookup("sel._domainkey.example.test", .txt).answer)
            #expect(raw.data == [.txt(Self.dkimParts.map { Array($0.utf8) })])
            #expect(try await dns.txt("sel._domainkey.example.test").get() == [Self.dkimParts.joined()])
        }
    }

    @Test func truncatedUDPFallsBackToTCP() async throws {
        try await Self.withServer { dns in
            let answer = try #require(await dns.lookup("big.example.test", .txt).answer)
            #expect(answer.data == [.txt(Self.bigStrings.map { Array($0.utf8) })])
        }
    }

    @Test func cnameChain() async throws {
        try await Self.withServer { dns in
            let answer = try #require(await dns.lookup("www.example.test", .a).answer)
            #expect(answer.canonicalName == "host.example.test")
            #expect(answer.cnameChain.map(\.data) == [.cname("web.example.test"), .cname("host.example.test")])
            #expect(answer.data == [.a(IPAddress("192.0.2.1")!)])
            let cname = try #require(await dns.lookup("www.example.test", .cname).answer)
            #expect(cname.data == [.cname("web.example.test")])
        }
    }

    @Test func reverseAndForwardConfirmed() async throws {
        try await Self.withServer { dns in
            let ip = try #require(IPAddress("192.0.2.5"))
            #expect(try await dns.ptr(for: ip).get() == ["mail.example.test"])
            #expect(try await dns.forwardConfirmedReverse(ip: ip).get() == ["mail.example.test"])
            #expect(try await dns.forwardConfirmedReverse(ip: IPAddress("192.0.2.6")!).get() == [])
        }
    }

    @Test func nxdomainAndNoData() async throws {
        try await Self.withServer { dns in
            #expect(await dns.lookup("nonexistent.example.test", .a) == .nxdomain)
            #expect(await dns.lookup("nonexistent.example.test", .mx) == .nxdomain)
            #expect(await dns.lookup("host.example.test", .mx) == .noData)
            #expect(await dns.lookup("v4only.example.test", .aaaa) == .noData)
            #expect(await dns.mx("nonexistent.example.test") == .failure(.nxdomain))
            #expect(await dns.txt("host.example.test") == .failure(.noData))
        }
    }

    @Test func idnaNameIsSentAsALabel() async throws {
        let server = try await Dnsmasq.start(["--host-record=xn--bcher-kva.example.test,192.0.2.77"])
        defer { server.stop() }
        let dns = DNSResolver(servers: [DNSServerAddress(server.address)!], timeout: .seconds(1), attempts: 1)
        #expect(await dns.lookup("bücher.example.test", .a).answer?.data == [.a(IPAddress("192.0.2.77")!)])
    }
}
