import SMTPTransport
import Testing

/// What the client reads out of a reply: the enhanced status code and the EHLO keywords.
struct SMTPClientReplyTests {
    @Test(arguments: [
        (["5.1.1 <x@y>: no such user"], "5.1.1"), (["2.0.0 Ok: queued"], "2.0.0"), (["4.7.0 try later"], "4.7.0"),
        (["3.1.1 odd class"], nil), (["5.1 two parts"], nil), (["Ok"], nil), ([], nil), (["55.1.1 x"], nil),
    ] as [([String], String?)])
    func enhancedStatus(lines: [String], expected: String?) {
        #expect(SMTPClientReply(code: 550, lines: lines).enhancedStatus == expected)
    }

    @Test func extensionsAreParsedOnceAndFollowTheLines() {
        var reply = SMTPClientReply(code: 250, lines: ["mx.example greets you", "PIPELINING", "size 10240000", "AUTH PLAIN LOGIN"])
        #expect(reply.extensions == ["PIPELINING": "", "SIZE": "10240000", "AUTH": "PLAIN LOGIN"])
        reply.lines.append("STARTTLS")
        #expect(reply.extensions["STARTTLS"] == "")
        #expect(SMTPClientReply(code: 250, lines: ["only a greeting"]).extensions.isEmpty)
    }
}
