import Testing
import Config

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("0.0.0.0:25", "0.0.0.0", 25),
        ("[::]:25", "::", 25),
        ("[::1]:587", "::1", 587),
        ("127.0.0.1:65535", "127.0.0.1", 65535),
        ("localhost:8025", "localhost", 8025),
        ("[2001:db8::1]:1", "2001:db8::1", 1),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try ListenAddress.parse(text)
        #expect(address == ListenAddress(host: host, port: port))
        #expect(address.description == text)
    }

    @Test(arguments: [
        ("0.0.0.0", "expected \"HOST:PORT\""),
        ("0.0.0.0:65536", "port must be a number from 0 to 65535"),
        ("0.0.0.0:", "port must be"),
        ("0.0.0.0:2x", "port must be"),
        ("::1:25", "write an IPv6 address in brackets"),
        ("[::1]25", "expected \":PORT\""),
        ("[::1:25", "missing \"]\""),
        ("[1.2.3.4]:25", "is not an IPv6 address"),
        ("mx.example.com:25", "must be an IP address or \"localhost\""),
        ("256.0.0.1:25", "must be an IP address"),
        ("", "expected \"HOST:PORT\""),
    ])
    func rejects(text: String, reason: String) {
        #expect {
            try ListenAddress.parse(text)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func defaultPortForDNSServers() throws {
        #expect(try ListenAddress.parse("192.0.2.1", defaultPort: 53) == ListenAddress(host: "192.0.2.1", port: 53))
        #expect(try ListenAddress.parse("::1", defaultPort: 53) == ListenAddress(host: "::1", port: 53))
        #expect(try ListenAddress.parse("[::1]", defaultPort: 53) == ListenAddress(host: "::1", port: 53))
        #expect(try ListenAddress.parse("127.0.0.1:5353", defaultPort: 53) == ListenAddress(host: "127.0.0.1", port: 5353))
    }
}
