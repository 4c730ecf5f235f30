import DNSCore
import SPF
import Testing

@Suite("SPF macros (RFC 7208 §7)")
struct SPFMacroTests {
    /// RFC 7208 §7.4.
    static let v4 = SPFMacroContext(sender: "strong-bad@email.example.com", domain: "email.example.com",
                                    ip: IPAddress("192.0.2.3")!, helo: "mx.example.org",
                                    validatedDomain: "mx.example.org", receiver: "receiver.example",
                                    timestamp: 1_767_225_600)
    static var v6: SPFMacroContext {
        var context = v4
        context.ip = IPAddress("2001:db8::cb01")!
        return context
    }

    @Test("RFC 7208 §7.4 examples", arguments: [
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
    ])
    func rfcExamples(_ macro: String, _ expansion: String) throws {
        let string = try SPFMacroString(parsing: Substring(macro))
        #expect(string.expand(Self.v4) == expansion)
    }

    @Test("RFC 7208 §7.4 IPv6 example")
    func rfcIPv6Example() throws {
        let string = try SPFMacroString(parsing: "%{ir}.%{v}._spf.%{d2}")
        #expect(string.expand(Self.v6)
                == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com")
    }

    @Test("other letters, escapes and URL-escaping", arguments: [
        ("%{h} %{p} %{r} %{t} %{c} %{v}", "mx.example.org mx.example.org receiver.example 1767225600 192.0.2.3 in-addr"),
        ("%%%_%-", "% %20"),
        ("%{S}", "strong-bad%40email.example.com"),
        ("%{L}", "strong-bad"),
        ("%{d2r+-.}", "example.email"),
        ("%{l100}", "strong-bad"),
        ("%{dR}", "com.example.email"),
    ])
    func letters(_ macro: String, _ expansion: String) throws {
        let string = try SPFMacroString(parsing: Substring(macro), allowSpaces: true)
        #expect(string.expand(Self.v4) == expansion)
        #expect(try SPFMacroString(parsing: Substring(string.description), allowSpaces: true) == string)
    }

    @Test("URL-escaping keeps only unreserved characters")
    func urlEscape() throws {
        var context = Self.v4
        context.sender = "~jack&jill=up-a_b3.c@e8.example.com"
        let string = try SPFMacroString(parsing: "%{L}")
        #expect(string.expand(context) == "~jack%26jill%3Dup-a_b3.c")
    }

    @Test("c for IPv6 is the RFC 5952 text; i is nibbles")
    func ipv6Letters() throws {
        #expect(try SPFMacroString(parsing: "%{c}").expand(Self.v6) == "2001:db8::cb01")
        #expect(try SPFMacroString(parsing: "%{i}").expand(Self.v6)
                == "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1")
    }

    @Test("an empty local part is postmaster (§4.3)")
    func postmaster() throws {
        var context = Self.v4
        context.sender = "@example.net"
        #expect(try SPFMacroString(parsing: "%{l}").expand(context) == "postmaster")
    }

    @Test("domain expansion truncates to 253 characters from the left (§7.3)")
    func truncation() throws {
        var context = Self.v4
        context.domain = String(repeating: "abcdefghi.", count: 30) + "example.com"  // 311 characters
        let name = try #require(try SPFMacroString(parsing: "%{d}.x.example").expandDomain(context))
        #expect(name.utf8.count <= 253)
        #expect(name.hasSuffix("abcdefghi.example.com.x.example"))
        #expect(!name.hasPrefix("."))
    }

    @Test("names that cannot be queried expand to nil", arguments: [
        "mail.example...com", "a123456789012345678901234567890123456789012345678901234567890123.example.com",
    ])
    func invalidNames(_ text: String) throws {
        #expect(try SPFMacroString(parsing: Substring(text)).expandDomain(Self.v4) == nil)
    }

    @Test("domain-spec endings (§7.1)", arguments: [
        ("%{d}", true), ("foo.%{d}", true), ("%{d}.com", true), ("example.com.", true), ("x.1-2", true),
        ("example.xn--zckzah", true), ("a.b%%", true), ("foo", false), ("example.com..", false),
        ("example.123", false), ("example.-com", false), ("example.com-", false), ("%{d}com", false),
    ])
    func domainSpec(_ text: String, _ valid: Bool) {
        #expect(((try? SPFDomainSpec(parsing: Substring(text))) != nil) == valid, "\(text)")
    }
}
