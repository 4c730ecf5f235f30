import DMARC
import Testing

struct DMARCAlignmentTests {
    let alignment = DMARCAlignment()

    @Test(arguments: Fixtures.evaluation.alignment_cases)
    func conformance(_ c: Fixtures.AlignmentCase) {
        let mode = DMARCAlignmentMode(rawValue: c.mode)!
        #expect(alignment.aligned(c.auth_domain, with: c.from_domain, mode: mode) == c.aligned)
    }

    /// (authenticated domain, From domain, relaxed, strict)
    static let table: [(String, String, Bool, Bool)] = [
        ("example.com", "example.com", true, true),
        ("EXAMPLE.com.", "example.COM", true, true),
        ("mail.example.com", "example.com", true, false),
        ("example.com", "mail.example.com", true, false),
        ("a.example.com", "b.example.com", true, false),
        ("example.net", "example.com", false, false),
        ("badexample.com", "example.com", false, false),
        ("com", "example.com", false, false),              // a public suffix aligns only with itself
        ("example.co.uk", "other.co.uk", false, false),
        ("mail.example.co.uk", "example.co.uk", true, false),
        ("alice.github.io", "bob.github.io", false, false), // PRIVATE section keeps these apart
        ("bücher.example", "xn--bcher-kva.example", true, true),
        ("", "example.com", false, false),
        ("a..example.com", "example.com", false, false),
    ]

    @Test(arguments: table)
    func modes(_ authenticated: String, _ from: String, _ relaxed: Bool, _ strict: Bool) {
        #expect(alignment.aligned(authenticated, with: from, mode: .relaxed) == relaxed)
        #expect(alignment.aligned(authenticated, with: from, mode: .strict) == strict)
    }
}
