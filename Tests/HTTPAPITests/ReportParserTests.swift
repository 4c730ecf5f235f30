import Foundation
import MailMessage
import Testing

/// ARF complaints (RFC 5965) and delivery status notifications (RFC 3464) as they arrive from other servers:
/// the RFC's own example, a Yahoo-style feedback-loop report, a Postfix bounce, and broken variants.
struct ReportParserTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
        return Array(try Data(contentsOf: url))
    }

    @Test func rfc5965Example() throws {
        let report = try #require(FeedbackReport.parse(try Self.fixture("arf-rfc5965.eml")))
        #expect(report.feedbackType == "abuse")
        #expect(report.recipient == "user@example.com")
        #expect(report.originalSender == "somespammer@example.net")
        #expect(report.reportedDomain == "example.net")
        #expect(report.sourceIP == "192.0.2.1")
        #expect(report.originalMessageID == "8787KJKJ3K4J3K4J3K4J3.mail@example.net")
    }

    @Test func yahooStyleReportWithHeadersOnly() throws {
        let report = try #require(FeedbackReport.parse(try Self.fixture("arf-yahoo.eml")))
        #expect(report.recipient == "reader@yahoo.example")
        #expect(report.originalSender == "news@shop.example")
        #expect(report.originalMessageID == "5f1e2d3c.1701000000@mx.shop.example")
        #expect(report.userAgent == "Yahoo!-Mail-Feedback/2.0")
        #expect(DeliveryStatusReport.parse(try Self.fixture("arf-yahoo.eml")) == nil)
    }

    @Test func postfixBounce() throws {
        let dsn = try #require(DeliveryStatusReport.parse(try Self.fixture("dsn-postfix.eml")))
        #expect(dsn.reportingMTA == "mail.example.net")
        #expect(dsn.recipients.map(\.finalRecipient) == ["gone@example.net", "full@example.net"])
        #expect(dsn.recipients.map(\.action) == ["failed", "delayed"])
        #expect(dsn.recipients.map(\.status) == ["5.1.1", "4.2.2"])
        #expect(dsn.recipients[0].diagnostic?.hasPrefix("550 5.1.1 <gone@example.net>: Recipient address rejected") == true)
        #expect(dsn.originalMessageID == "abc123@mx.shop.example")
        #expect(dsn.originalFrom == "news@shop.example")
        #expect(FeedbackReport.parse(try Self.fixture("dsn-postfix.eml")) == nil)
    }

    @Test func crlfLineEndingsParseTheSame() throws {
        let lf = try Self.fixture("dsn-postfix.eml")
        var crlf: [UInt8] = []
        for b in lf { if b == 10 { crlf.append(13) }; crlf.append(b) }
        #expect(DeliveryStatusReport.parse(crlf) == DeliveryStatusReport.parse(lf))
    }

    static let notReports: [String] = [
        "",
        "Subject: hi\r\n\r\nbody\r\n",
        "Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno boundary\r\n",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n--b--\r\n",
        "Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nUser-Agent: x\r\n--b--\r\n",
        "Content-Type: multipart/report; report-type=feedback-report; boundary=\"\"\r\n\r\n--\r\n",
    ]

    @Test(arguments: notReports)
    func notAReport(text: String) {
        #expect(DeliveryStatusReport.parse(Array(text.utf8)) == nil)
        #expect(FeedbackReport.parse(Array(text.utf8)) == nil)
    }

    @Test func nestingIsBounded() {
        var text = ""
        for i in 0..<50 { text += "Content-Type: multipart/mixed; boundary=b\(i)\r\n\r\n--b\(i)\r\n" }
        text += "Content-Type: text/plain\r\n\r\nx\r\n"
        let part = MIMEPart.parse(Array(text.utf8))
        var depth = 0, p = part
        while let child = p.parts.first { depth += 1; p = child }
        #expect(depth <= MIMEPart.maxDepth)
    }

    @Test func parametersAndEncodings() {
        let part = MIMEPart.parse(Array("Content-Type: Text/Plain; charset=\"utf-8\"; name=\"a;b\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nZo=C3=AB=\r\n!\r\n".utf8))
        #expect(part.contentType == "text/plain")
        #expect(part.contentTypeParameter("charset") == "utf-8")
        #expect(part.contentTypeParameter("NAME") == "a;b")
        #expect(part.text == "Zoë!\r\n")
        let b64 = MIMEPart.parse(Array("Content-Transfer-Encoding: base64\r\n\r\nWm/Dqw==\r\n".utf8))
        #expect(b64.text == "Zoë")
    }
}
