import NIOCore
import SMTPTransport
import Testing

/// `SMTPClientConnection.dotStuff`, which copies whole lines, against the byte-at-a-time loop it replaced.
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
}
