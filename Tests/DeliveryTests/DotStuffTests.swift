import NIOCore
import SMTPTransport
import Testing

/// `SMTPClientConnection.dotStuff`, which copies whole lines, against the byte-at-a-time loop it replaced; and
/// `dotStuffedPieces` (the same bytes as slices of the message, what `sendMessage` writes) against `dotStuff`.
struct DotStuffTests {
    static func reference(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], atLineStart = true, previous: UInt8 = 0
        for byte in bytes {
            if atLineStart && byte == 46 { out.append(46) }
            if byte == 10 && previous != 13 { out.append(13) }
            out.append(byte)
            atLineStart = byte == 10
            previous = byte
        }
        if !bytes.isEmpty && !atLineStart {
            if previous != 13 { out.append(13) }
            out.append(10)
        }
        return out
    }

    static func stuffed(_ text: [UInt8]) -> [UInt8] {
        var out = ByteBuffer()
        SMTPClientConnection.dotStuff(ByteBuffer(bytes: text), into: &out)
        return Array(out.readableBytesView)
    }

    @Test(arguments: [
        ("", ""), ("a", "a\r\n"), ("a\r\n", "a\r\n"), (".", "..\r\n"), (".\r\n.\r\n", "..\r\n..\r\n"),
        ("a\nb\n", "a\r\nb\r\n"), ("\n\n", "\r\n\r\n"), ("x\r", "x\r\n"), ("a\r\n.b", "a\r\n..b\r\n"),
        ("a\rb\r\n", "a\rb\r\n"), ("a.b\r\n", "a.b\r\n"),
    ])
    func table(_ input: String, _ expected: String) {
        #expect(Self.stuffed(Array(input.utf8)) == Array(expected.utf8))
    }

    @Test func matchesTheByteAtATimeLoop() {
        let alphabet: [UInt8] = [13, 10, 46, 97, 32]
        for _ in 0..<5000 {
            let input = (0..<Int.random(in: 0...30)).map { _ in alphabet.randomElement()! }
            #expect(Self.stuffed(input) == Self.reference(input), "input \(input)")
        }
    }

    /// The pieces joined, for a message that does not start at index 0 of its buffer (as a received one,
    /// whose trace fields sit in the decoder's headroom).
    static func pieces(_ text: [UInt8], maxPieces: Int = 64) -> [UInt8]? {
        var buffer = ByteBuffer(bytes: Array(repeating: 0x58, count: 7) + text)
        buffer.moveReaderIndex(forwardBy: 7)
        return SMTPClientConnection.dotStuffedPieces(buffer, maxPieces: maxPieces)
            .map { $0.reduce(into: [UInt8]()) { $0 += $1.readableBytesView } }
    }

    @Test func piecesMatchTheCopy() {
        let alphabet: [UInt8] = [13, 10, 46, 97, 32]
        for _ in 0..<5000 {
            let input = (0..<Int.random(in: 0...40)).map { _ in alphabet.randomElement()! }
            #expect(Self.pieces(input, maxPieces: 1000) == Self.stuffed(input), "input \(input)")
        }
    }

    @Test func anOrdinaryMessageIsOneSliceOfItself() throws {
        let message = ByteBuffer(string: "Subject: hi\r\n\r\nline one\r\nline.two\r\n")
        let pieces = try #require(SMTPClientConnection.dotStuffedPieces(message))
        #expect(pieces == [message])
        // A leading dot and a missing final CRLF: the runs around them stay slices.
        let dotted = try #require(SMTPClientConnection.dotStuffedPieces(ByteBuffer(string: "a\r\n.b\r\nc")))
        #expect(dotted.map { String(buffer: $0) } == ["a\r\n", ".", ".b\r\nc", "\r\n"])
    }

    @Test func manyChangesFallBackToCopying() {
        let lines = String(repeating: ".x\r\n", count: 40)
        #expect(SMTPClientConnection.dotStuffedPieces(ByteBuffer(string: lines)) == nil)
        #expect(Self.pieces(Array(lines.utf8), maxPieces: 200) == Self.stuffed(Array(lines.utf8)))
    }
}
