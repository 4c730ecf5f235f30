import SMTPProtocol
import Testing

/// The byte searches against the obvious loop, at every offset around word boundaries.
struct ByteScanTests {
    @Test(arguments: [0, 1, 7, 8, 9, 15, 16, 17, 31, 63])
    func highBitAtEveryOffset(length: Int) {
        let plain = [UInt8](repeating: UInt8(ascii: "a"), count: length)
        plain.withUnsafeBytes { #expect(!ByteScan.containsHighBit($0)) }
        for position in 0..<length {
            var bytes = plain
            bytes[position] = 0x80 | UInt8(position & 0x7F)
            bytes.withUnsafeBytes { #expect(ByteScan.containsHighBit($0), "0x80 at \(position) of \(length)") }
        }
    }

    @Test(arguments: [
        ("", 0, 0), ("abc", 0, 3), ("ab\ncd", 0, 2), ("ab\rcd", 0, 2), ("ab\r\ncd", 0, 2), ("a\nb\rc", 2, 3),
        ("a\rb\nc", 2, 3), ("abc\n", 3, 3), ("abc\n", 4, 4), ("\r\n", 1, 1),
    ])
    func firstLineBreak(text: String, from: Int, expected: Int) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { #expect(ByteScan.firstLineBreak(in: $0, from: from) == expected) }
    }

    @Test func firstStaysInsideTheRange() {
        let bytes = Array("x.y.z".utf8)
        bytes.withUnsafeBytes { raw in
            #expect(ByteScan.first(UInt8(ascii: "."), in: raw, from: 0) == 1)
            #expect(ByteScan.first(UInt8(ascii: "."), in: raw, from: 2) == 3)
            #expect(ByteScan.first(UInt8(ascii: "."), in: raw, from: 2, to: 3) == 3)
            #expect(ByteScan.first(UInt8(ascii: "."), in: raw, from: 4) == 5)
            #expect(ByteScan.first(UInt8(ascii: "q"), in: raw, from: 0) == 5)
        }
    }
}

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
