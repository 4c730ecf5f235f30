import NIOCore
@testable import MailServer
import Testing

/// `InboundAuthenticator.removingForgedResults`: Authentication-Results fields in our name are dropped
/// (RFC 8601 §5), anything else is returned byte for byte (and, with nothing to drop, as the same buffer).
struct ForgedResultsTests {
    static let host = "mx.example.test"

    @Test(arguments: [
        // (input, expected)
        ("Subject: a\r\n\r\nAuthentication-Results: mx.example.test; dkim=pass\r\n",
         "Subject: a\r\n\r\nAuthentication-Results: mx.example.test; dkim=pass\r\n"),          // in the body: kept
        ("Authentication-Results: mx.example.test; dkim=pass\r\nSubject: a\r\n\r\nx\r\n", "Subject: a\r\n\r\nx\r\n"),
        ("AUTHENTICATION-RESULTS : MX.Example.Test;\r\n\tspf=pass\r\nSubject: a\r\n\r\nx\r\n", "Subject: a\r\n\r\nx\r\n"),
        ("Authentication-Results: other.example; dkim=pass\r\nSubject: a\r\n\r\n",
         "Authentication-Results: other.example; dkim=pass\r\nSubject: a\r\n\r\n"),
        ("Authentication-Results-X: mx.example.test; x\r\n\r\n", "Authentication-Results-X: mx.example.test; x\r\n\r\n"),
        ("A: 1\r\nAuthentication-Results: mx.example.test 1; none\r\nB: 2\r\nAuthentication-Results:\r\n mx.example.test; x\r\n\r\nbody",
         "A: 1\r\nB: 2\r\n\r\nbody"),
        ("Authentication-Results: mx.example.test; none", ""),                                   // no line end at all
        ("", ""),
    ])
    func table(_ input: String, _ expected: String) {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        buffer.writeString("xx")
        buffer.moveReaderIndex(forwardBy: 2)   // a reader index that is not zero
        buffer.writeString(input)
        #expect(String(buffer: InboundAuthenticator.removingForgedResults(buffer, hostname: Self.host)) == expected)
    }
}
