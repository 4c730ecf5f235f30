import NIOCore
import SMTPTransport
import Testing

/// Where the header section ends: what a spilled message keeps in memory and what DMARC reads of an
/// unsigned one.
struct MessageHeaderTests {
    @Test(arguments: [
        ("From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n\r\nmore\r\n", "From: a@b.example\r\nSubject: x\r\n\r\n"),
        ("From: a@b.example\r\n Folded: not empty\r\n\r\n", "From: a@b.example\r\n Folded: not empty\r\n\r\n"),
        ("\r\nbody", "\r\n"),
        ("From: a@b.example\r\n", nil), ("", nil), ("From: a@b.example\n\nbody\n", nil),   // no CRLF CRLF
    ] as [(String, String?)])
    func end(message: String, expected: String?) {
        let buffer = ByteBuffer(string: message)
        #expect(MessageHeader.end(in: buffer).map { String(message.utf8.prefix($0))! } == expected)
    }

    @Test func searchResumesWhereItStopped() {
        let buffer = ByteBuffer(string: "A: 1\r\nB: 2\r\n\r\nbody")
        #expect(MessageHeader.end(in: buffer, from: 8) == 14)
        #expect(MessageHeader.end(in: buffer, from: 12) == nil)
    }
}
