import Foundation
import Testing
@testable import MailMessage

@Suite struct MIMEBuilderTests {
    static let alice = Mailbox(name: "Alice", address: "alice@example.com")
    static let bob = Mailbox(address: "bob@example.org")
    static let date = Date(timeIntervalSince1970: 1_796_000_000)   // Mon, 30 Nov 2026 00:53:20 +0000

    static func build(_ m: OutgoingMessage, seed: UInt64 = 0xA9F5) throws -> String {
        String(decoding: try MIMEBuilder.build(m, messageID: "q1@mx.example.com", date: date, boundarySeed: seed), as: UTF8.self)
    }

    static func message(_ change: (inout OutgoingMessage) -> Void) -> OutgoingMessage {
        var m = OutgoingMessage(from: alice, to: [bob], subject: "Hello", text: "Hi Bob.\n")
        change(&m)
        return m
    }

    @Test func plainTextMessageIsExact() throws {
        let text = try Self.build(Self.message { $0.cc = [Mailbox(address: "carol@example.net")]; $0.bcc = [Mailbox(address: "dave@example.net")]
                                                 $0.replyTo = Mailbox(address: "replies@example.com")
                                                 $0.headers = [("X-Campaign", "winter 2026")] })
        #expect(text == """
            From: Alice <alice@example.com>\r
            Reply-To: replies@example.com\r
            To: bob@example.org\r
            Cc: carol@example.net\r
            Subject: Hello\r
            Date: \(RFC5322Date.format(Self.date))\r
            Message-ID: <q1@mx.example.com>\r
            MIME-Version: 1.0\r
            X-Campaign: winter 2026\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 7bit\r
            \r
            Hi Bob.\r

            """)
        #expect(!text.contains("dave"))   // Bcc is envelope-only
    }

    static let shapes: [(name: String, text: String?, html: String?, attachments: Int, contentType: String)] = [
        ("text", "t", nil, 0, "text/plain; charset=utf-8"),
        ("html", nil, "<p>h</p>", 0, "text/html; charset=utf-8"),
        ("both", "t", "<p>h</p>", 0, "multipart/alternative; boundary=\"=_apus_000000000000a9f5_1\""),
        ("text+file", "t", nil, 1, "multipart/mixed; boundary=\"=_apus_000000000000a9f5_1\""),
        ("file only", nil, nil, 2, "multipart/mixed; boundary=\"=_apus_000000000000a9f5_1\""),
    ]

    @Test(arguments: shapes)
    func bodyShape(name: String, text: String?, html: String?, attachments: Int, contentType: String) throws {
        let files = (0..<attachments).map { Attachment(filename: "f\($0).bin", contentType: "application/octet-stream", data: [0, 1, 2]) }
        let built = try Self.build(Self.message { $0.text = text; $0.html = html; $0.attachments = files })
        #expect(built.contains("\r\nContent-Type: \(contentType)\r\n"), "\(name)")
        #expect(built.components(separatedBy: "Content-Disposition: attachment").count - 1 == attachments)
        if text != nil && html != nil {
            let plain = try #require(built.range(of: "text/plain")), rich = try #require(built.range(of: "text/html"))
            #expect(plain.lowerBound < rich.lowerBound)   // RFC 2046 §5.1.4: the preferred part last
        }
    }

    static let encodings: [(text: String, cte: String, body: String)] = [
        ("Short ASCII lines.\nTwo of them.", "7bit", "Short ASCII lines.\r\nTwo of them.\r\n"),
        ("CR only\rand CRLF\r\nend\n", "7bit", "CR only\r\nand CRLF\r\nend\r\n"),
        ("Café", "quoted-printable", "Caf=C3=A9\r\n"),
        ("trailing space \nx", "quoted-printable", "trailing space=20\r\nx\r\n"),
        ("a=b", "7bit", "a=b\r\n"),
        ("=_apus_ lookalike", "quoted-printable", "=3D_apus_ lookalike\r\n"),
        (String(repeating: "x", count: 80), "quoted-printable",
         String(repeating: "x", count: 75) + "=\r\n" + "xxxxx\r\n"),
        (String(repeating: "é", count: 30), "quoted-printable",
         String(repeating: "=C3=A9", count: 12) + "=C3=\r\n" + "=A9" + String(repeating: "=C3=A9", count: 12) + "=\r\n"
         + String(repeating: "=C3=A9", count: 5) + "\r\n"),
        ("nul\u{0}byte", "quoted-printable", "nul=00byte\r\n"),
    ]

    @Test(arguments: encodings)
    func textBodyEncoding(text: String, cte: String, body: String) throws {
        let encoded = TextBody(text)
        #expect(encoded.contentTransferEncoding == cte)
        #expect(String(decoding: encoded.encoded, as: UTF8.self) == body)
        for line in String(decoding: encoded.encoded, as: UTF8.self).components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76)
        }
    }

    static let refusals: [(name: String, change: @Sendable (inout OutgoingMessage) -> Void, field: String, message: String)] = [
        ("no recipients", { $0.to = [] }, "to", "at least one recipient"),
        ("only bcc is fine", { $0.to = []; $0.bcc = [bob] }, "", ""),
        ("no body", { $0.text = nil }, "text", "no text, html or attachments"),
        ("bad cc", { $0.cc = [bob, Mailbox(address: "not an address")] }, "cc[1]", "no @"),
        ("bad from name", { $0.from = Mailbox(name: "A\nBcc: x@y", address: "a@example.com") }, "from", "control characters"),
        ("bad reply-to", { $0.replyTo = Mailbox(address: "x@") }, "reply_to", "is not a host name"),
        ("subject CRLF", { $0.subject = "Hi\r\nBcc: victim@example.net" }, "subject", "control characters"),
        ("owned From", { $0.headers = [("from", "x@y")] }, "headers.from", "written by Apus"),
        ("owned Content-Type", { $0.headers = [("Content-Type", "text/html")] }, "headers.Content-Type", "written by Apus"),
        ("owned Message-ID", { $0.headers = [("MESSAGE-ID", "<x@y>")] }, "headers.MESSAGE-ID", "written by Apus"),
        ("owned Bcc", { $0.headers = [("Bcc", "x@y")] }, "headers.Bcc", "written by Apus"),
        ("name with colon", { $0.headers = [("X-A:B", "v")] }, "headers.X-A:B", "printable ASCII without spaces"),
        ("name with space", { $0.headers = [("X A", "v")] }, "headers.X A", "printable ASCII without spaces"),
        ("empty name", { $0.headers = [("", "v")] }, "headers.", "printable ASCII"),
        ("value with LF", { $0.headers = [("X-A", "v\nBcc: y@z")] }, "headers.X-A", "CR or LF"),
        ("value with NUL", { $0.headers = [("X-A", "v\u{0}")] }, "headers.X-A", "printable ASCII"),
        ("value non-ASCII", { $0.headers = [("X-A", "café")] }, "headers.X-A", "printable ASCII"),
        ("value too long", { $0.headers = [("X-A", String(repeating: "v", count: 1000))] }, "headers.X-A", "too long"),
        ("type with params", { $0.attachments = [Attachment(filename: "a", contentType: "text/plain; charset=utf-8", data: [])] },
         "attachments[0].content_type", "type/subtype"),
        ("type without subtype", { $0.attachments = [Attachment(filename: "a", contentType: "image", data: [])] },
         "attachments[0].content_type", "type/subtype"),
        ("type with space", { $0.attachments = [Attachment(filename: "a", contentType: "image/ png", data: [])] },
         "attachments[0].content_type", "type/subtype"),
        ("multipart attachment", { $0.attachments = [Attachment(filename: "a", contentType: "multipart/mixed", data: [])] },
         "attachments[0].content_type", "cannot be sent as an attachment"),
        ("empty filename", { $0.attachments = [Attachment(filename: "", data: [])] }, "attachments[0].filename", "needs a file name"),
        ("filename CR", { $0.attachments = [Attachment(filename: "a\rb", data: [])] }, "attachments[0].filename", "control characters"),
    ]

    @Test(arguments: refusals)
    func refuses(name: String, change: @Sendable (inout OutgoingMessage) -> Void, field: String, message: String) {
        do {
            _ = try Self.build(Self.message(change))
            #expect(field.isEmpty, "\(name): built")
        } catch let error as MIMEBuildError {
            #expect(error.field == field, "\(name)")
            #expect(!message.isEmpty && error.message.contains(message), "\(name): \(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func refusesABadMessageID() {
        #expect(throws: MIMEBuildError.self) {
            try MIMEBuilder.build(Self.message { _ in }, messageID: "<q1@x>", date: Self.date, boundarySeed: 1)
        }
    }

    @Test func nonASCIISubjectIsEncodedAndFolded() throws {
        let subject = "Ünïcödé subject that goes on and on — with em dashes, «guillemets» and 日本語 too"
        let built = try Self.build(Self.message { $0.subject = subject })
        let header = try #require(built.components(separatedBy: "\r\n\r\n").first)
        for line in header.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "\(line)")
            #expect(line.utf8.allSatisfy { $0 < 0x80 })
        }
        #expect(header.contains("Subject: =?UTF-8?B?"))
        #expect(header.contains("\r\n =?UTF-8?B?"))   // folded
    }

    @Test func longAddressListsFoldBetweenMailboxes() throws {
        let many = (1...8).map { Mailbox(name: "Recipient Number \($0)", address: "recipient\($0)@example.org") }
        let built = try Self.build(Self.message { $0.to = many })
        let header = try #require(built.components(separatedBy: "\r\n\r\n").first)
        #expect(header.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(header.contains("recipient8@example.org"))
    }

    @Test func attachmentNamesAndBase64() throws {
        let data = (0..<200).map { UInt8($0) }
        let built = try Self.build(Self.message {
            $0.attachments = [Attachment(filename: "report \"2026\".pdf", contentType: "Application/PDF", data: data),
                              Attachment(filename: "résumé déjà vu – ünïcödé naming of a fairly long file.txt", contentType: "text/plain", data: data)]
        })
        #expect(built.contains("Content-Type: application/pdf; name=\"report \\\"2026\\\".pdf\"\r\n"))
        #expect(built.contains("Content-Disposition: attachment; filename=\"report \\\"2026\\\".pdf\"\r\n"))
        #expect(built.contains("filename*0*=UTF-8''r%C3%A9sum%C3%A9"))
        #expect(built.contains("filename*1*="))
        #expect(built.contains("name=\"=?UTF-8?B?"))
        let lines = built.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 78 }, "\(lines.filter { $0.utf8.count > 78 })")
        #expect(lines.contains(String(Data(data).base64EncodedString().prefix(76))))
    }

    @Test func sameInputsGiveTheSameBytes() throws {
        let m = Self.message { $0.html = "<b>x</b>" }
        #expect(try Self.build(m, seed: 7) == Self.build(m, seed: 7))
        #expect(try Self.build(m, seed: 7) != Self.build(m, seed: 8))
    }
}
