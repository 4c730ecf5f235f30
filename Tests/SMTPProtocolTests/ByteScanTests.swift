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
