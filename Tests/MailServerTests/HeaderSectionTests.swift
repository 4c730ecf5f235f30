@testable import MailServer
import NIOCore
import Testing

/// The header section read for DMARC when a message carries no DKIM signature: up to the empty line.
struct HeaderSectionTests {
    @Test(arguments: [
        ("From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n\r\nmore\r\n", "From: a@b.example\r\nSubject: x\r\n\r\n"),
        ("From: a@b.example\n\nbody\n", "From: a@b.example\n\n"),
        ("From: a@b.example\r\n", "From: a@b.example\r\n"),                         // no body
        ("From: a@b.example\r\n Folded: not empty\r\n\r\n", "From: a@b.example\r\n Folded: not empty\r\n\r\n"),
        ("\r\nbody", "\r\n"), ("", ""),
    ])
    func headerSection(message: String, expected: String) {
        #expect(InboundAuthenticator.headerSection(ByteBuffer(string: message)) == Array(expected.utf8))
    }
}
