import DNSCore
import SPF
import Testing

@Suite("SPF record parser (RFC 7208 §4.6, §12)")
struct SPFRecordTests {
    /// Records that parse, with their re-serialised form.
    static let valid: [(String, String)] = [
        ("v=spf1", "v=spf1"),
        ("V=SPF1 -ALL", "v=spf1 -all"),
        ("v=spf1  a   -all ", "v=spf1 a -all"),
        ("v=spf1 +a ?mx ~ptr -all", "v=spf1 a ?mx ~ptr -all"),
        ("v=spf1 ip4:192.0.2.0/24 ip6:2001:DB8::/32 -all", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"),
        ("v=spf1 ip4:192.0.2.1 ip6:::1.1.1.1/0", "v=spf1 ip4:192.0.2.1 ip6:::101:101/0"),
        ("v=spf1 a/24//64 mx:example.com/0 a//0", "v=spf1 a/24//64 mx:example.com/0 a//0"),
        ("v=spf1 a:foo:bar/baz.example.com", "v=spf1 a:foo:bar/baz.example.com"),
        ("v=spf1 a:foo.example.xn--zckzah", "v=spf1 a:foo.example.xn--zckzah"),
        ("v=spf1 a:example.com.", "v=spf1 a:example.com."),
        ("v=spf1 include:_spf.example.net exists:%{ir}.%{l1r+-}._spf.%{d}",
         "v=spf1 include:_spf.example.net exists:%{ir}.%{l1r+-}._spf.%{d}"),
        ("v=spf1 ptr ptr:example.org redirect=_spf.example.org", "v=spf1 ptr ptr:example.org redirect=_spf.example.org"),
        ("v=spf1 -all exp=explain._spf.%{d}", "v=spf1 -all exp=explain._spf.%{d}"),
        ("v=spf1 moo.cow-far_out=man:dog/cat default=+ x=%%%_%-", "v=spf1 moo.cow-far_out=man:dog/cat default=+ x=%%%_%-"),
        ("v=spf1 a:%{H}.bar", "v=spf1 a:%{H}.bar"),
        ("v=spf1 a:%{d02r}", "v=spf1 a:%{d2r}"),
    ]

    @Test("valid records parse and round-trip", arguments: valid)
    func validRecord(_ input: String, _ printed: String) throws {
        let record = try SPFRecord.parse(input)
        #expect(record.description == printed)
        #expect(try SPFRecord.parse(record.description) == record)
    }

    /// Records that are syntax errors, with the error.
    static let invalid: [(String, SPFParseError)] = [
        ("v=spf10", .notSPFRecord),
        ("spf1 -all", .notSPFRecord),
        ("v=spf1 ip4:1.2.3.4 -all moo", .unknownMechanism("moo")),
        ("v=spf1 moo.cow/far_out=man:dog/cat", .unknownMechanism("moo.cow/far_out=man:dog/cat")),
        ("v=spf1 moo.cow:far_out=man:dog/cat", .unknownMechanism("moo.cow:far_out=man:dog/cat")),
        ("v=spf1 redirect:example.com", .unknownMechanism("redirect:example.com")),
        ("v=spf1 1up=foo", .unknownMechanism("1up=foo")),
        ("v=spf1 =all", .unknownMechanism("=all")),
        ("v=spf1 -all.", .unexpectedArgument("all.")),
        ("v=spf1 -all:foobar", .unexpectedArgument("all:foobar")),
        ("v=spf1 -all/8", .unexpectedArgument("all/8")),
        ("v=spf1 ptr/0", .unexpectedArgument("ptr/0")),
        ("v=spf1 include", .missingArgument("include")),
        ("v=spf1 include:", .missingArgument("include:")),
        ("v=spf1 exists", .missingArgument("exists")),
        ("v=spf1 a:", .missingArgument("a:")),
        ("v=spf1 ip4", .missingArgument("ip4")),
        ("v=spf1 a/33", .invalidCIDR("a/33")),
        ("v=spf1 a//129", .invalidCIDR("a//129")),
        ("v=spf1 a/24/64", .invalidCIDR("a/24/64")),
        ("v=spf1 ip4:1.2.3.4/032", .invalidCIDR("ip4:1.2.3.4/032")),
        ("v=spf1 ip4:1.2.3.4//32", .invalidCIDR("ip4:1.2.3.4//32")),
        ("v=spf1 ip6:::1.1.1.1//33", .invalidCIDR("ip6:::1.1.1.1//33")),
        ("v=spf1 ip4:1.2.3", .invalidAddress("ip4:1.2.3")),
        ("v=spf1 ip4:1.2.3.4:8080", .invalidAddress("ip4:1.2.3.4:8080")),
        ("v=spf1 ip4:::1", .invalidAddress("ip4:::1")),
        ("v=spf1 ip6:1.2.3.4", .invalidAddress("ip6:1.2.3.4")),
        ("v=spf1 ip6::CAFE::BABE", .invalidAddress("ip6::CAFE::BABE")),
        ("v=spf1 a:foo-bar", .invalidDomainSpec("foo-bar")),
        ("v=spf1 a:museum", .invalidDomainSpec("museum")),
        ("v=spf1 a:museum.", .invalidDomainSpec("museum.")),
        ("v=spf1 a:111.222.33.44", .invalidDomainSpec("111.222.33.44")),
        ("v=spf1 a:example.-com", .invalidDomainSpec("example.-com")),
        ("v=spf1 a:example.com:8080", .invalidDomainSpec("example.com:8080")),
        ("v=spf1 include:ip5.example.com/24", .invalidDomainSpec("ip5.example.com/24")),
        ("v=spf1 exp=-all", .invalidDomainSpec("-all")),
        ("v=spf1 exp=", .invalidDomainSpec("")),
        ("v=spf1 ?all redirect=", .invalidDomainSpec("")),
        ("v=spf1 -all foo=%abc", .invalidMacro("%abc")),
        ("v=spf1 exists:%(ir).sbl.example.com", .invalidMacro("%(ir).sbl.example.com")),
        ("v=spf1 exists:foo%.sbl.example.com", .invalidMacro("foo%.sbl.example.com")),
        ("v=spf1 a:%{a}.example.com", .invalidMacro("%{a}.example.com")),
        ("v=spf1 -all exp=%{r}.example.com", .invalidMacro("%{r}.example.com")),
        ("v=spf1 a:%{d0}.example.com", .invalidMacro("%{d0}.example.com")),
        ("v=spf1 a:%{d.example.com", .invalidMacro("%{d.example.com")),
        ("v=spf1 a:%{d*}.example.com", .invalidMacro("%{d*}.example.com")),
        ("v=spf1 exp=a.example.com -all exp=b.example.com", .duplicateModifier("exp")),
        ("v=spf1 redirect=a.example.com -all Redirect=b.example.com", .duplicateModifier("redirect")),
        ("v=spf1 a:ctrl.example.com\rptr -all", .invalidCharacter(0x0D)),
        ("v=spf1 ip4:192.0.2.5\n include:x.example.com", .invalidCharacter(0x0A)),
        ("v=spf1\ta -all", .notSPFRecord),
        ("v=spf1 a:\u{FEFF}garbage.example.net -all", .invalidCharacter(0xEF)),
        ("v=spf1 a:foo.example.com\0", .invalidCharacter(0)),
    ]

    @Test("syntax errors are typed", arguments: invalid)
    func invalidRecord(_ input: String, _ error: SPFParseError) {
        #expect(throws: error) { try SPFRecord.parse(input) }
    }

    @Test("the parsed structure")
    func structure() throws {
        let record = try SPFRecord.parse("v=spf1 -a:%{d}/24//48 mx ~include:x.example.net redirect=r.example.net exp=e.example.net x-y=z")
        #expect(record.directives.count == 3)
        #expect(record.directives[0].qualifier == .fail)
        guard case .a(let spec?, let cidr) = record.directives[0].mechanism else { Issue.record("not a"); return }
        #expect(spec.description == "%{d}")
        #expect(cidr == SPFDualCIDR(ipv4: 24, ipv6: 48))
        #expect(record.directives[1] == SPFDirective(.pass, .mx(nil, SPFDualCIDR())))
        #expect(record.directives[2].qualifier == .softfail)
        #expect(record.redirect?.description == "r.example.net")
        #expect(record.explanation?.description == "e.example.net")
        #expect(record.terms.count == 6)
    }

    @Test("record selection prefix (§4.5)", arguments: [
        ("v=spf1", true), ("v=spf1 -all", true), ("V=SpF1 ~all", true), ("v=spf10", false),
        ("v=spf1mx", false), ("v=spf", false), (" v=spf1", false), ("", false),
    ])
    func selection(_ text: String, _ isSPF: Bool) {
        #expect(SPFRecord.isSPFRecord(Array(text.utf8)) == isSPF)
    }
}
