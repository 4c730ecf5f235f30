import DNSCore
import Testing

struct DNSNameTests {
    @Test func caseInsensitive() throws {
        let a = DNSName("MX.Example.COM.")
        let b = DNSName("mx.example.com")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a.description == "MX.Example.COM")
        #expect(a.zoneDescription == "MX.Example.COM.")
        #expect(Set([a, b]).count == 1)
    }

    @Test func rootAndParent() throws {
        #expect(DNSName(".").isRoot)
        #expect(DNSName.root.zoneDescription == ".")
        #expect(DNSName("a.b.c").parent == (DNSName("b.c")))
    }

    @Test(arguments: [
        ("a..b", DNSNameError.emptyLabel),
        (String(repeating: "x", count: 64) + ".example", .labelTooLong(64)),
        (Array(repeating: String(repeating: "x", count: 63), count: 4).joined(separator: "."), .nameTooLong(257)),
        ("bad\\", .badEscape),
        ("bad\\25", .badEscape),
    ])
    func rejects(_ text: String, _ error: DNSNameError) {
        #expect(throws: error) { try DNSName(text) }
    }

    @Test func longestValidName() throws {
        // 3 × 63 + 61 = 250 label bytes + 4 length bytes + root = 255 octets.
        let labels = Array(repeating: String(repeating: "x", count: 63), count: 3) + [String(repeating: "y", count: 61)]
        let name = try DNSName(labels.joined(separator: "."))
        #expect(name.wireLength == 255)
    }

    @Test func escapes() throws {
        let name = DNSName("a\\.b.c\\032d")
        #expect(name.labels == [Array("a.b".utf8), Array("c d".utf8)])
        #expect(name.description == "a\\.b.c\\032d")
    }
}

struct IPAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"), ("0.0.0.0", "0.0.0.0"),
        ("2001:db8::1", "2001:db8::1"), ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("::", "::"), ("::1", "::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("::ffff:192.0.2.1", "::ffff:c000:201"), ("fe80::", "fe80::"),
    ])
    func parsesAndFormats(_ text: String, _ canonical: String) {
        #expect(IPAddress(text)?.description == canonical)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1::2::3", "12345::", "::g", "1:2:3:4:5:6:7:8:9",
                      "example.com", "fe80::1%eth0"])
    func rejects(_ text: String) {
        #expect(IPAddress(text) == nil)
    }
}

struct ReverseNameTests {
    @Test(arguments: [
        ("192.0.2.1", "1.2.0.192.in-addr.arpa"),
        ("2001:db8::567:89ab", "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"),
    ])
    func reverse(_ ip: String, _ name: String) throws {
        let address = try #require(IPAddress(ip))
        #expect(ReverseName.name(for: address).description == name)
        #expect(ReverseName.address(of: try DNSName(name)) == address)
    }

    @Test func notReverse() throws {
        #expect(ReverseName.address(of: DNSName("example.com")) == nil)
        #expect(ReverseName.address(of: DNSName("2.0.192.in-addr.arpa")) == nil)
    }
}
