import NIOCore
import SMTPProtocol
import Testing

/// The reply bytes written into a buffer are the reply's wire text.
struct ReplyWireTests {
    @Test(arguments: [
        SMTPReply(250, nil, "mx.example"), SMTPReply(550, EnhancedStatusCode(5, 1, 1), "<x@y>: no such user"),
        SMTPReply(250, EnhancedStatusCode(2, 0, 0), ""), SMTPReply(421, nil, lines: ["a", "b", "c"]),
        SMTPReply(599, EnhancedStatusCode(5, 7, 26), lines: ["unauthenticated", "see https://example/5.7.26"]),
    ])
    func writeWireIsWireText(reply: SMTPReply) {
        var buffer = ByteBuffer()
        reply.writeWire(into: &buffer)
        #expect(String(buffer: buffer) == reply.wireText)
    }
}
