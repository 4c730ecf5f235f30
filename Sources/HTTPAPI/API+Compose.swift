import Foundation
import MailMessage

extension API {
    /// The message(s) to queue: one for all recipients, or one per recipient when each needs its own
    /// one-click unsubscribe link (RFC 8058: the link names the recipient).
    func compose(_ send: SendRequest, sender: String, key: APICredential, to recipients: [String],
                 now: Date) throws(APIError) -> [(recipients: [String], bytes: [UInt8])] {
        guard send.unsubscribe, let links = unsubscribe else {
            return [(recipients, try message(send, extraHeaders: [], now: now))]
        }
        var out: [(recipients: [String], bytes: [UInt8])] = []
        for recipient in recipients {
            let url = links.url(domain: key.domain, recipient: recipient)
            let mailto = links.mailto(domain: key.domain, recipient: recipient)
            let headers = [("List-Unsubscribe", "<\(url)>, <\(mailto)>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
            out.append(([recipient], try message(send, extraHeaders: headers, now: now)))
        }
        return out
    }

    /// Builds the RFC 5322 message from the request's parts, or decodes `raw_base64` (CRLF line endings).
    func message(_ send: SendRequest, extraHeaders: [(String, String)], now: Date) throws(APIError) -> [UInt8] {
        if let raw = send.rawBase64 {
            guard let data = Data(base64Encoded: raw, options: .ignoreUnknownCharacters), !data.isEmpty else {
                throw .invalid("Field \"raw_base64\" is not valid base64")
            }
            var bytes = Self.crlf(Array(data))
            guard Self.hasHeaderSection(bytes) else {
                throw .invalid("Field \"raw_base64\" does not hold an RFC 5322 message (header fields, an empty line, the body)")
            }
            if !extraHeaders.isEmpty {
                bytes = Array(extraHeaders.map { "\($0.0): \($0.1)\r\n" }.joined().utf8) + bytes
            }
            return bytes
        }
        do {
            let from = try Mailbox.parse(send.from, field: "from")
            let to = try Self.mailboxes(send.to, field: "to")
            let cc = try Self.mailboxes(send.cc, field: "cc")
            let bcc = try Self.mailboxes(send.bcc, field: "bcc")
            let replyTo = try send.replyTo.map { try Mailbox.parse($0, field: "reply_to") }
            var headers: [(name: String, value: String)] = send.headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
            headers += extraHeaders.map { (name: $0.0, value: $0.1) }
            var attachments: [Attachment] = []
            for (index, part) in send.attachments.enumerated() {
                guard let data = Data(base64Encoded: part.contentBase64, options: .ignoreUnknownCharacters) else {
                    throw MIMEBuildError(field: "attachments[\(index)].content_base64", message: "is not valid base64")
                }
                attachments.append(Attachment(filename: part.filename, contentType: part.contentType ?? "application/octet-stream",
                                              data: Array(data)))
            }
            let outgoing = OutgoingMessage(from: from, to: to, cc: cc, bcc: bcc, replyTo: replyTo, subject: send.subject ?? "",
                                           text: send.text, html: send.html, headers: headers, attachments: attachments)
            let messageID = "\(UInt64.random(in: 0...UInt64.max).hexString).\(Int(now.timeIntervalSince1970))@\(hostname)"
            return try MIMEBuilder.build(outgoing, messageID: messageID, date: now, boundarySeed: UInt64.random(in: 0...UInt64.max))
        } catch let error as MIMEBuildError {
            throw .invalid("Field \"\(error.field)\": \(error.message)")
        } catch {
            throw .invalid("\(error)")
        }
    }

    static func mailboxes(_ list: [String], field: String) throws -> [Mailbox] {
        try list.enumerated().map { try Mailbox.parse($0.element, field: "\(field)[\($0.offset)]") }
    }

    /// Bare LF (and bare CR) become CRLF, as the queue and DKIM expect.
    static func crlf(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 40)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 13 {
                out.append(13); out.append(10)
                if i + 1 < bytes.count, bytes[i + 1] == 10 { i += 1 }
            } else if b == 10 {
                out.append(13); out.append(10)
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }

    /// A first line that is a header field (`name:`), and an empty line somewhere (or headers only).
    static func hasHeaderSection(_ bytes: [UInt8]) -> Bool {
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return false }
        return bytes[..<colon].allSatisfy { $0 > 32 && $0 < 127 }
    }
}

extension UInt64 {
    var hexString: String { String(self, radix: 16) }
}
