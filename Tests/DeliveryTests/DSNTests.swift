import Foundation
import MailMessage
import Testing

/// DSN composition (RFC 3464), parsed back with Python's email package.
@Suite struct DSNTests {
    static let original = Array(("Received: from a.test\r\n\tby mx.local.test; Mon, 30 Nov 2026 09:00:00 +0000\r\n"
        + "From: <sender@local.test>\r\nTo: <bob@remote.test>\r\nSubject: Lunch?\r\n\r\nSecret body text\r\n").utf8)

    @Test func composesAReadableMultipartReport() throws {
        let dsn = DSN(reportingMTA: "mx.local.test", sender: "sender@local.test", queueID: "00000000deadbeef",
                      arrivalDate: Date(timeIntervalSince1970: 1_800_000_000), date: Date(timeIntervalSince1970: 1_800_000_100),
                      recipients: [
                          .init(finalRecipient: "bob@remote.test", originalRecipient: "robert@remote.test", status: "5.1.1",
                                remoteMTA: "mx1.remote.test [127.0.0.2]",
                                diagnostic: "550 5.1.1 <bob@remote.test>: no such user"),
                          .init(finalRecipient: "carol@slow.test", status: "4.4.7",
                                diagnostic: "gave up after 5d: 451 4.3.0 try later\r\nInjected: header"),
                      ],
                      originalMessage: Self.original, token: "fixed")
        let text = String(decoding: dsn.rendered, as: UTF8.self)
        #expect(!text.contains("Secret body text"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        let parsed = try PythonEmail.parse(text)
        #expect(parsed["content_type"] as? String == "multipart/report")
        #expect(parsed["report_type"] as? String == "delivery-status")
        #expect(parsed["from"] as? String == "Mail Delivery System <MAILER-DAEMON@mx.local.test>")
        #expect(parsed["to"] as? String == "<sender@local.test>")
        #expect(parsed["auto_submitted"] as? String == "auto-replied")
        #expect(parsed["parts"] as? [String] == ["text/plain", "message/delivery-status", "text/rfc822-headers"])
        let perMessage = parsed["per_message"] as? [String: String] ?? [:]
        #expect(perMessage["Reporting-MTA"] == "dns;mx.local.test")
        #expect(perMessage["Arrival-Date"] != nil)
        let recipients = parsed["recipients"] as? [[String: String]] ?? []
        #expect(recipients.count == 2)
        #expect(recipients.first?["Final-Recipient"] == "rfc822;bob@remote.test")
        #expect(recipients.first?["Original-Recipient"] == "rfc822;robert@remote.test")
        #expect(recipients.first?["Action"] == "failed")
        #expect(recipients.first?["Status"] == "5.1.1")
        #expect(recipients.first?["Remote-MTA"] == "dns;mx1.remote.test")
        #expect(recipients.first?["Diagnostic-Code"] == "smtp;550 5.1.1 <bob@remote.test>: no such user")
        #expect(recipients.last?["Status"] == "4.4.7")
        #expect(recipients.last?["Remote-MTA"] == nil)
        #expect(recipients.last?["Injected"] == nil)
        #expect((parsed["text"] as? String)?.contains("could not be delivered to 2 recipients") == true)
        #expect((parsed["headers"] as? String)?.contains("Subject: Lunch?") == true)
    }

    @Test func headerSectionStopsAtTheBlankLine() {
        let header = String(decoding: DSN.headerSection(of: Self.original), as: UTF8.self)
        #expect(header.hasSuffix("Subject: Lunch?\r\n"))
        #expect(DSN.headerSection(of: Array("No body at all\r\n".utf8)) == Array("No body at all\r\n".utf8))
    }
}
