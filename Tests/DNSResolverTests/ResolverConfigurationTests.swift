import DNSCore
import DNSResolver
import Testing

struct DNSServerAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1", 53), ("127.0.0.1:5353", "127.0.0.1", 5353), ("::1", "::1", 53),
        ("[::1]:5353", "::1", 5353), ("[2001:db8::53]", "2001:db8::53", 53), ("2001:db8::53", "2001:db8::53", 53),
    ])
    func parses(_ text: String, _ host: String, _ port: Int) {
        let address = DNSServerAddress(text)
        #expect(address?.host == host)
        #expect(address?.port == port)
    }

    @Test(arguments: ["", "example.com", "example.com:53", "127.0.0.1:0", "127.0.0.1:70000", "[::1", "[::1]x",
                      "[::1]:", "127.0.0.1:abc"])
    func rejects(_ text: String) {
        #expect(DNSServerAddress(text) == nil)
    }

    @Test func description() {
        #expect(DNSServerAddress("::1")?.description == "[::1]:53")
        #expect(DNSServerAddress("127.0.0.1:5353")?.description == "127.0.0.1:5353")
    }
}

struct ResolvConfTests {
    @Test func parsesServersAndOptions() {
        let conf = ResolvConf(parsing: """
            # generated
            search example.com
            nameserver 10.255.255.53
            nameserver 2001:db8::53   # comment
            nameserver fe80::1%eth0
            nameserver not-an-ip
            ; another comment
            options ndots:2 timeout:3 attempts:4 rotate
            """)
        #expect(conf.servers == [DNSServerAddress(host: "10.255.255.53"), DNSServerAddress(host: "2001:db8::53")])
        #expect(conf.timeoutSeconds == 3)
        #expect(conf.attempts == 4)
    }

    @Test func defaultsAndClamps() {
        let empty = ResolvConf(parsing: "")
        #expect(empty.servers.isEmpty && empty.timeoutSeconds == 5 && empty.attempts == 2)
        let clamped = ResolvConf(parsing: "options timeout:0 attempts:99")
        #expect(clamped.timeoutSeconds == 1 && clamped.attempts == 5)
    }

    @Test func systemServersNeverEmpty() {
        #expect(!DNSResolver.systemServers(path: "/nonexistent/resolv.conf").servers.isEmpty)
    }
}

struct DNSCacheTests {
    static let key = DNSCache.Key(name: "Example.Test", type: .a)
    static let answer = DNSLookupResult.answer(DNSAnswer(
        name: "example.test", records: [DNSResourceRecord(name: "example.test", ttl: 300, data: .a(IPAddress("192.0.2.1")!))]))

    @Test func expiresAndCountsDown() {
        var cache = DNSCache()
        let t0 = ContinuousClock.now
        cache.put(Self.key, Self.answer, ttl: 300, now: t0)
        #expect(cache.get(DNSCache.Key(name: "example.TEST", type: .a), now: t0 + .seconds(100))?.answer?.ttl == 200)
        #expect(cache.get(Self.key, now: t0 + .seconds(300)) == nil)
        #expect(cache.count == 0)
    }

    @Test func negativeCachingIsCapped() {
        var cache = DNSCache(maxNegativeTTL: 60)
        let t0 = ContinuousClock.now
        cache.put(Self.key, .nxdomain, ttl: 86_400, now: t0)
        #expect(cache.get(Self.key, now: t0 + .seconds(59)) == .nxdomain)
        #expect(cache.get(Self.key, now: t0 + .seconds(61)) == nil)
    }

    @Test(arguments: [DNSLookupResult.serverFailure, .refused, .timeout, .malformed("x")])
    func failuresAreNotCached(_ result: DNSLookupResult) {
        var cache = DNSCache()
        cache.put(Self.key, result, ttl: 300, now: .now)
        #expect(cache.count == 0)
    }

    @Test func zeroTTLIsNotCached() {
        var cache = DNSCache()
        cache.put(Self.key, Self.answer, ttl: 0, now: .now)
        cache.put(Self.key, .noData, ttl: nil, now: .now)
        #expect(cache.count == 0)
    }

    @Test func sizeIsBounded() throws {
        var cache = DNSCache(capacity: 100)
        let t0 = ContinuousClock.now
        for i in 0..<1000 {
            cache.put(DNSCache.Key(name: try DNSName("n\(i).test"), type: .a), .noData, ttl: UInt32(100 + i), now: t0)
            #expect(cache.count <= 100)
        }
        // The entries closest to expiry went first: the newest (longest TTL) one is still there.
        #expect(cache.get(DNSCache.Key(name: "n999.test", type: .a), now: t0) == .noData)
    }
}

struct DNSServerListTests {
    @Test func parsesList() throws {
        #expect(try DNSServerAddress.parseList(["127.0.0.1:5353", "[::1]:53"]).map(\.description) == ["127.0.0.1:5353", "[::1]:53"])
        #expect(throws: InvalidDNSServerAddress(text: "dns.example")) { try DNSServerAddress.parseList(["1.1.1.1", "dns.example"]) }
    }
}
