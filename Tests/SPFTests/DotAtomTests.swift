@testable import SPF
import Testing

/// Which Received-SPF values go out bare (RFC 5322 dot-atom) and which are quoted.
struct DotAtomTests {
    @Test(arguments: [
        ("mail.example.com", true), ("a", true), ("a-b.c_d", true), ("x!#$%&'*+-/=?^_`{|}~y", true),
        ("", false), (".", false), (".a", false), ("a.", false), ("a..b", false), ("a b", false),
        ("ip4:192.0.2.0/24", false), ("alice@example.com", false), ("é.example", false), ("\"q\"", false),
    ])
    func dotAtom(text: String, expected: Bool) {
        #expect(SPFCheckResult.isDotAtom(text) == expected)
    }

    @Test(arguments: [
        ("plain comment", "plain comment"), ("a (b) c\\d", "a \\(b\\) c\\\\d"), ("two\r\nlines", "two  lines"),
    ])
    func commentText(text: String, expected: String) {
        #expect(SPFCheckResult.commentText(text) == expected)
    }
}
