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

/// The byte-wise quoting of Received-SPF values against the scalar-wise implementation it replaced.
struct AtomOrQuotedEquivalenceTests {
    static func reference(_ text: String) -> String {
        if SPFCheckResult.isDotAtom(text) { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\": out += "\\" + String(scalar)
            case "\r", "\n": out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    @Test func matchesTheFormerImplementation() {
        let alphabet = Array("a.Z9@\"\\\r\n (é)-!".unicodeScalars)
        for _ in 0..<5000 {
            let text = String(String.UnicodeScalarView((0..<Int.random(in: 0...12)).map { _ in alphabet.randomElement()! }))
            #expect(SPFCheckResult.atomOrQuoted(text) == Self.reference(text), "text \(text.debugDescription)")
        }
    }

    @Test func theAtextTableIsRFC5322Atext() {
        let specials = Set("!#$%&'*+-/=?^_`{|}~".utf8)
        for value in 0..<256 {
            let byte = UInt8(value)
            let expected = (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || specials.contains(byte)
            #expect(SPFCheckResult.isAtext(byte) == expected, "byte \(value)")
        }
    }
}
