import Delivery
import DNSCore
import NIOCore
import Testing

/// `[delivery] ip_version`, `source_ipv4`: which families are used and which address we send from, as the
/// receiving fake MX sees it.
@Suite struct OutboundAddressTests {
    static func dns() -> StaticResolver {
        var dns = StaticResolver()
        dns.add("dual.test", .mx(preference: 10, exchange: "mx.dual.test"))
        dns.add("mx.dual.test", .aaaa(IPAddress("::1")!))
        dns.add("mx.dual.test", .a(IPAddress("127.0.0.22")!))
        return dns
    }

    static func send(_ harness: DeliveryHarness) async -> RecipientResult? {
        await harness.courier.deliver(domain: "dual.test", mailFrom: "a@local.test", recipients: ["x@dual.test"],
                                      message: ByteBuffer(string: "Subject: x\r\n\r\nx\r\n"), smtputf8: false).first
    }

    @Test func sourceAddressAndFamilies() async throws {
        let v4 = try await FakeMX.start(ip: "127.0.0.22", port: 0)
        let v6 = try await FakeMX.start(ip: "::1", port: v4.port)

        // ipv4 only, from 127.0.0.21: the IPv6 address is never tried.
        let ipv4 = try DeliveryHarness(dns: Self.dns(), port: v4.port, reuseConnections: false,
                                       outbound: .init(ipVersion: .ipv4, sourceIPv4: "127.0.0.21"))
        #expect(await Self.send(ipv4)?.outcome == .sent)
        #expect(v4.peers == ["127.0.0.21"])
        #expect(v6.connections == 0)
        await ipv4.stop()

        // ipv6 only: the IPv4 fake is not contacted again.
        let ipv6 = try DeliveryHarness(dns: Self.dns(), port: v4.port, reuseConnections: false, outbound: .init(ipVersion: .ipv6))
        #expect(await Self.send(ipv6)?.outcome == .sent)
        #expect(v6.connections == 1 && v4.connections == 1)
        await ipv6.stop()

        // ipv6 only, and nothing listens on ::1 any more: deferred, naming the setting, IPv4 untouched.
        await v6.stop()
        let none = try DeliveryHarness(dns: Self.dns(), port: v4.port, reuseConnections: false, outbound: .init(ipVersion: .ipv6))
        let result = await Self.send(none)
        #expect(result?.outcome == .temporary)
        #expect(v4.connections == 1)
        await none.stop()
        await v4.stop()
    }

    @Test func usableAddresses() {
        let list = [IPAddress("::1")!, IPAddress("192.0.2.1")!]
        #expect(OutboundAddresses().usable(list) == list)
        #expect(OutboundAddresses(ipVersion: .ipv4).usable(list) == [IPAddress("192.0.2.1")!])
        #expect(OutboundAddresses(ipVersion: .ipv6).usable(list) == [IPAddress("::1")!])
        let sources = OutboundAddresses(sourceIPv4: "192.0.2.9", sourceIPv6: "2001:db8::9")
        #expect(sources.source(for: "198.51.100.1") == "192.0.2.9" && sources.source(for: "2001:db8::1") == "2001:db8::9")
    }
}
