@testable import DMARC
import Foundation
import Testing

struct PublicSuffixListTests {
    let psl = PublicSuffixList.bundled

    /// The list's own test vectors (test_psl.txt, CC0), against the bundled list. The second argument is
    /// the registrable domain, null when there is none (the name is a public suffix, or invalid).
    @Test(arguments: Fixtures.pslCases)
    func officialVectors(_ c: Fixtures.PSLCase) {
        let expected = c.registrable.map { PublicSuffixList.normalized($0)!.joined(separator: ".") }
        #expect(psl.registrableDomain(of: c.domain) == expected)
    }

    @Test func officialVectorsAreLoaded() {
        #expect(Fixtures.pslCases.count >= 70)
    }

    /// domain → (public suffix, organizational domain); nil for invalid names.
    static let table: [(String, String?, String?)] = [
        ("example.com", "com", "example.com"),
        ("a.b.example.com", "com", "example.com"),
        ("com", "com", "com"),
        ("Mail.Example.CO.UK.", "co.uk", "example.co.uk"),
        ("co.uk", "co.uk", "co.uk"),
        ("example.test", "test", "example.test"),          // unlisted TLD: implicit "*" rule
        ("mx.example.test", "test", "example.test"),
        ("a.b.c.ck", "c.ck", "b.c.ck"),                   // *.ck
        ("c.ck", "c.ck", "c.ck"),
        ("www.ck", "ck", "www.ck"),                        // !www.ck
        ("mail.www.ck", "ck", "www.ck"),
        ("x.city.kobe.jp", "kobe.jp", "city.kobe.jp"),      // *.kobe.jp with !city.kobe.jp
        ("alice.github.io", "github.io", "alice.github.io"), // PRIVATE section
        ("食狮.公司.cn", "xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn"),
        ("", nil, nil),
        (".com", nil, nil),
        ("a..com", nil, nil),
        ("a b.com", nil, nil),
        ("a\\.b.com", nil, nil),                         // an escaped dot inside a label
        (String(repeating: "a", count: 64) + ".com", nil, nil),
    ]

    @Test(arguments: table)
    func suffixes(_ domain: String, _ suffix: String?, _ organizational: String?) {
        #expect(psl.publicSuffix(of: domain) == suffix)
        #expect(psl.organizationalDomain(of: domain) == organizational)
        #expect(psl.isPublicSuffix(domain) == (suffix != nil && suffix == organizational))
    }

    @Test func icannOnlyIgnoresPrivateSection() {
        let icann = PublicSuffixList(parsing: "// ===BEGIN ICANN DOMAINS===\nio\n// ===END ICANN DOMAINS===\n"
            + "// ===BEGIN PRIVATE DOMAINS===\ngithub.io\n// ===END PRIVATE DOMAINS===\n", sections: .icannOnly)
        #expect(icann.organizationalDomain(of: "alice.github.io") == "github.io")
        #expect(PublicSuffixList(parsing: "io\ngithub.io\n").organizationalDomain(of: "alice.github.io") == "alice.github.io")
        #expect(PublicSuffixList.bundled.organizationalDomain(of: "alice.github.io") == "alice.github.io")
    }

    @Test func customListRules() {
        // Trailing text after whitespace is ignored; wildcard and exception; rules written in U-labels.
        let list = PublicSuffixList(parsing: "// comment\nuk\nco.uk extra words\n*.sch.uk\n!city.sch.uk\n公司.cn\n")
        #expect(list.organizationalDomain(of: "x.school.sch.uk") == "x.school.sch.uk")
        #expect(list.organizationalDomain(of: "www.city.sch.uk") == "city.sch.uk")
        #expect(list.organizationalDomain(of: "a.b.co.uk") == "b.co.uk")
        #expect(list.organizationalDomain(of: "a.xn--55qx5d.cn") == "a.xn--55qx5d.cn")
        #expect(list.registrableDomain(of: "co.uk") == nil)
    }
}


struct PublicSuffixListBundleTests {
    /// `Sources/DMARC/public_suffix_list.dat`: the list as published, from which the compiled rules are made.
    static func publishedList() throws -> String {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/DMARC/public_suffix_list.dat")
        return try String(contentsOf: sources, encoding: .utf8)
    }

    /// Every rule line of the published list becomes a rule: none is lost to IDNA conversion or validation.
    @Test func noRuleDropped() throws {
        let lines = try Self.publishedList().split(whereSeparator: \.isNewline)
            .map { $0.prefix { $0 != " " && $0 != "\t" } }
            .filter { !$0.isEmpty && !$0.hasPrefix("//") }
        let list = PublicSuffixList.bundled
        let dropped = lines.filter { line in
            guard let name = PublicSuffixList.normalized(String(line.drop { $0 == "!" || $0 == "*" || $0 == "." }))
            else { return true }
            let key = name.joined(separator: ".")
            return !(list.rules.contains(key) || list.wildcards.contains(key) || list.exceptions.contains(key))
        }
        #expect(dropped.isEmpty, "\(dropped.prefix(20))")
        #expect(lines.count > 9000)
        #expect(list.rules.count + list.wildcards.count + list.exceptions.count == Set(lines).count)
    }

    /// The compiled rules are exactly the published list's, section by section: scripts/update-psl was run
    /// after the .dat last changed, and nothing was edited by hand.
    @Test(arguments: [PublicSuffixList.Sections.icannAndPrivate, .icannOnly])
    func compiledRulesMatchThePublishedList(_ sections: PublicSuffixList.Sections) throws {
        let published = PublicSuffixList(parsing: try Self.publishedList(), sections: sections)
        let compiled = PublicSuffixList(icannRules: PublicSuffixList.icannRules, privateRules: PublicSuffixList.privateRules,
                                        sections: sections)
        #expect(compiled.rules == published.rules, "run scripts/update-psl")
        #expect(compiled.wildcards == published.wildcards, "run scripts/update-psl")
        #expect(compiled.exceptions == published.exceptions, "run scripts/update-psl")
        #expect(published.rules.count > (sections == .icannOnly ? 6000 : 8000))
    }
}
