import NIOCore
import SMTPProtocol
import Testing

/// The bytes of a reply on the wire (RFC 5321 §4.2, the enhanced code on every line as RFC 2034 §4 asks).
struct ReplyWireTests {
    @Test(arguments: [
        (SMTPReply(250, nil, "mx.example"), "250 mx.example\r\n"),
        (SMTPReply(550, EnhancedStatusCode(5, 1, 1), "<x@y>: no such user"), "550 5.1.1 <x@y>: no such user\r\n"),
        (SMTPReply(250, EnhancedStatusCode(2, 0, 0), ""), "250 2.0.0\r\n"),
        (SMTPReply(421, nil, lines: ["a", "b", "c"]), "421-a\r\n421-b\r\n421 c\r\n"),
        (SMTPReply(599, EnhancedStatusCode(5, 7, 26), lines: ["unauthenticated", "see https://example/5.7.26"]),
         "599-5.7.26 unauthenticated\r\n599 5.7.26 see https://example/5.7.26\r\n"),
        (SMTPReply(553, EnhancedStatusCode(5, 1000, 7), "odd"), "553 5.1000.7 odd\r\n"),   // out of range: as `description`
        (SMTPReply(250, EnhancedStatusCode(2, 0, 0), lines: ["", "üñï"]), "250-2.0.0\r\n250 2.0.0 üñï\r\n"),
    ])
    func wireForm(reply: SMTPReply, expected: String) {
        var buffer = ByteBuffer()
        reply.writeWire(into: &buffer)
        #expect(String(buffer: buffer) == expected)
        #expect(reply.wireText == expected)
    }
}
