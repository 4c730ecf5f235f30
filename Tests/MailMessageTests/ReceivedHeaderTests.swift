import Foundation
@testable import MailMessage
import Testing

/// The Received field: what a client's EHLO name may put into it, and its layout.
struct ReceivedHeaderTests {
    @Test(arguments: [
        ("client.example", "client.example"), ("[192.0.2.1]", "[192.0.2.1]"), ("", "unknown"),
        ("evil)\r\nX-Injected: yes", "evilX-Injected:yes"), ("a(b)c\\d;e", "abcde"), ("bücher.example", "bcher.example"),
        ("   ", "unknown"), (String(repeating: "x", count: 300), String(repeating: "x", count: 255)),
    ])
    func sanitize(name: String, expected: String) {
        #expect(ReceivedHeader.sanitize(name) == expected)
    }

    @Test func rendered() {
        let header = ReceivedHeader(clientName: "client.example", clientAddress: "2001:db8::1", reverseName: nil,
                                    hostname: "mx.example.com", protocolName: "ESMTPS", queueID: "4b7f2c1e9a0d3f12",
                                    tlsVersion: "TLSv1.3", date: Date(timeIntervalSince1970: 1_796_677_323))
        #expect(header.rendered == """
            Received: from client.example (unknown [IPv6:2001:db8::1])\r
            \tby mx.example.com (Apus) with ESMTPS id 4b7f2c1e9a0d3f12\r
            \t(TLSv1.3);\r
            \tMon, 7 Dec 2026 21:02:03 +0000\r

            """)
    }
}
