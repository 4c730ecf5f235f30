import Foundation
import Testing
@testable import MailMessage

/// Built messages read back by a real reader: Python's `email` package (policy `default`, the strict modern
/// parser) must find the same parts, decoded bodies, file names, subject and addresses, and no defects.
@Suite(.serialized)
struct MIMEBuilderPythonTests {
    static let python = "/usr/bin/python3"

    static let script = """
        import sys, json, base64, email, email.policy
        msg = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
        def addresses(name):
            h = msg[name]
            return [[a.display_name, a.addr_spec] for a in h.addresses] if h is not None else []
        out = {'subject': str(msg['subject']) if msg['subject'] is not None else None,
               'from': addresses('from'), 'to': addresses('to'), 'cc': addresses('cc'),
               'reply_to': addresses('reply-to'), 'bcc': msg['bcc'] is not None,
               'message_id': msg['message-id'], 'date': msg['date'].datetime.timestamp(),
               'defects': [repr(d) for d in msg.defects], 'multiparts': [], 'parts': []}
        for part in msg.walk():
            out['defects'] += ['body: ' + repr(d) for d in part.defects]
            for name, value in part.items():
                out['defects'] += [name.lower() + ': ' + repr(d) for d in getattr(value, 'defects', [])]
            if part.is_multipart():
                out['multiparts'].append(part.get_content_type())
                continue
            entry = {'type': part.get_content_type(), 'filename': part.get_filename(),
                     'name': part['content-type'].params.get('name'),
                     'disposition': part.get_content_disposition(),
                     'data': base64.b64encode(part.get_payload(decode=True)).decode()}
            if part.get_content_maintype() == 'text' and part.get_filename() is None:
                entry['text'] = part.get_content()
            out['parts'].append(entry)
        print(json.dumps(out))
        """

    struct Parsed: Decodable {
        struct Part: Decodable { var type: String; var filename: String?; var name: String?; var disposition: String?; var data: String; var text: String? }
        var subject: String?
        var from: [[String]]
        var to: [[String]]
        var cc: [[String]]
        var reply_to: [[String]]
        var bcc: Bool
        var message_id: String
        var date: Double
        var defects: [String]
        var multiparts: [String]
        var parts: [Part]
    }

    static func parse(_ bytes: [UInt8]) throws -> Parsed {
        let file = NSTemporaryDirectory() + "apus-mime-\(UUID().uuidString).eml"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, file]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python: \(errors)")
        return try JSONDecoder().decode(Parsed.self, from: data)
    }

    /// What a reader gets back from a text body: LF line ends, one at the end.
    static func readBack(_ text: String) -> String {
        var s = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if !s.hasSuffix("\n") { s += "\n" }
        return s
    }

    static let eightBit: [UInt8] = (0..<2048).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }

    static let cases: [(name: String, message: OutgoingMessage)] = [
        ("text", OutgoingMessage(from: Mailbox(address: "a@example.com"), to: [Mailbox(address: "b@example.org")],
                                 subject: "Plain", text: "Hello.\nSecond line.\n")),
        ("html", OutgoingMessage(from: Mailbox(name: "Ünï Sender", address: "a@example.com"),
                                 to: [Mailbox(name: "Doe, John", address: "j@example.org")],
                                 subject: "Ça marche — 日本語", html: "<p>Grüße, " + String(repeating: "long line ", count: 30) + "</p>")),
        ("both", OutgoingMessage(from: Mailbox(name: "Sender \"Q\"", address: "a@example.com"),
                                 to: [Mailbox(address: "b@example.org")], cc: [Mailbox(name: "Zoë", address: "z@example.net")],
                                 bcc: [Mailbox(address: "hidden@example.net")], replyTo: Mailbox(address: "r@example.com"),
                                 subject: "=?not-an-encoded-word?= but text", text: "naïve café\r\n=_ and = signs\ttab \n",
                                 html: "<h1>naïve café</h1>", headers: [("X-Tag", "t1"), ("List-Id", "<news.example.com>")])),
        ("attachments", OutgoingMessage(from: Mailbox(address: "a@example.com"), to: [Mailbox(address: "b@example.org")],
                                        subject: String(repeating: "Très long sujet ", count: 8), text: "see attached", html: "<i>see attached</i>",
                                        attachments: [
                                            Attachment(filename: "données €.bin", contentType: "application/octet-stream", data: eightBit),
                                            Attachment(filename: "plain.txt", contentType: "text/plain", data: Array("ascii text\n".utf8)),
                                            Attachment(filename: "日本語の長いファイル名のテスト文書と添付ファイル.pdf", contentType: "application/pdf", data: Array(eightBit.prefix(77))),
                                            Attachment(filename: "empty", contentType: "application/x-empty", data: []),
                                            Attachment(filename: "it's a 100% \"quoted\" *starred* file name; longer than sixty characters.txt",
                                                       contentType: "application/octet-stream", data: [0x2E, 0x0D, 0x0A, 0x2E]),
                                            Attachment(filename: "=?UTF-8?B?bm90?= literally.txt", contentType: "application/octet-stream", data: [0]),
                                        ])),
        ("attachment only", OutgoingMessage(from: Mailbox(address: "a@example.com"), bcc: [Mailbox(address: "b@example.org")],
                                            attachments: [Attachment(filename: "x.png", contentType: "image/png", data: eightBit)])),
    ]

    /// The `name=` fallback is an RFC 2047 encoded-word in a quoted string, which is what Python (rightly) flags.
    static let expectedDefects: Set<String> = [
        "content-type: InvalidHeaderDefect('encoded word inside quoted string')",
        "content-type: InvalidHeaderDefect('missing trailing whitespace after encoded-word')",
    ]

    @Test(arguments: cases.map(\.name))
    func pythonReadsWhatWasBuilt(name: String) throws {
        let m = try #require(Self.cases.first { $0.name == name }?.message)
        let date = Date(timeIntervalSince1970: 1_796_000_123)
        let bytes = try MIMEBuilder.build(m, messageID: "\(name.replacingOccurrences(of: " ", with: "-"))@mx.example.com",
                                          date: date, boundarySeed: 0xDEADBEEF)
        #expect(bytes.allSatisfy { $0 < 0x80 }, "8-bit byte in the message")
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 78 }, "\(lines.filter { $0.utf8.count > 78 })")
        #expect(!bytes.indices.contains { bytes[$0] == 0x0A && ($0 == 0 || bytes[$0 - 1] != 0x0D) }, "bare LF")

        let parsed = try Self.parse(bytes)
        #expect(Set(parsed.defects).isSubset(of: Self.expectedDefects), "\(parsed.defects)")
        #expect(parsed.subject == (m.subject.isEmpty ? nil : m.subject))
        #expect(parsed.from == [[m.from.name ?? "", m.from.address]])
        #expect(parsed.to == m.to.map { [$0.name ?? "", $0.address] })
        #expect(parsed.cc == m.cc.map { [$0.name ?? "", $0.address] })
        #expect(parsed.reply_to == (m.replyTo.map { [[$0.name ?? "", $0.address]] } ?? []))
        #expect(!parsed.bcc)
        #expect(parsed.message_id == "<\(name.replacingOccurrences(of: " ", with: "-"))@mx.example.com>")
        #expect(parsed.date == 1_796_000_123)

        var expected: [(type: String, text: String?, filename: String?, data: [UInt8]?)] = []
        if let text = m.text { expected.append(("text/plain", Self.readBack(text), nil, nil)) }
        if let html = m.html { expected.append(("text/html", Self.readBack(html), nil, nil)) }
        for a in m.attachments { expected.append((a.contentType, nil, a.filename, a.data)) }
        try #require(parsed.parts.count == expected.count, "\(parsed.parts.map(\.type))")
        for (part, want) in zip(parsed.parts, expected) {
            #expect(part.type == want.type)
            if let text = want.text { #expect(part.text?.replacingOccurrences(of: "\r\n", with: "\n") == text) }
            if let data = want.data {
                #expect(part.filename == want.filename)
                #expect(part.name == want.filename)
                #expect(part.disposition == "attachment")
                #expect(Data(base64Encoded: part.data).map { [UInt8]($0) } == data)
            }
        }
        let shape = (m.text != nil && m.html != nil) ? ["multipart/alternative"] : []
        #expect(parsed.multiparts == (m.attachments.isEmpty ? shape : ["multipart/mixed"] + shape))
    }
}
