import SMTPProtocol
import Testing

/// The enhanced status code at the start of a reply's text (RFC 3463 shape), checked over the bytes.
struct StatusWordTests {
    @Test(arguments: [
        ("5.1.1 <x@y>: no such user", "5.1.1"), ("2.0.0", "2.0.0"), (" 4.7.0 try later", "4.7.0"),
        ("5.7.26 unauthenticated", "5.7.26"), ("2.1.5", "2.1.5"),
        ("ok", nil), ("5.1 x", "5.1"), ("5..1 x", nil), ("5.1.1234 x", nil), ("5.1.1a x", nil), ("", nil), (".5.1 x", nil),
    ] as [(String, String?)])
    func statusWord(text: String, expected: String?) {
        #expect(SMTPReplyParser.statusWord(text).map(String.init) == expected)
    }
}
