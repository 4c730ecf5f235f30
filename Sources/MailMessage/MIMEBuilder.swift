import Foundation

/// Turns an `OutgoingMessage` into an RFC 5322 message with a MIME body (RFC 2045–2047, 2231), CRLF line ends,
/// ready for the queue. The body's shape follows what the message holds:
///
/// ```
/// text only              text/plain
/// html only              text/html
/// text and html          multipart/alternative (text first: readers show the last part they can)
/// + attachments          multipart/mixed: the above, then one base64 part per attachment
/// ```
/// Text bodies are 7bit when they can be, else quoted-printable (`TextBody`); non-ASCII in Subject and
/// display names becomes RFC 2047 encoded-words (`EncodedWord`); every header line is folded under 78
/// characters where it has spaces. Bcc recipients are never written. Deterministic: the same message, id,
/// date and seed give the same bytes.
public enum MIMEBuilder {
    /// `messageID` is written without its angle brackets (`id@host`).
    public static func build(_ m: OutgoingMessage, messageID: String, date: Date, boundarySeed: UInt64) throws -> [UInt8] {
        try check(m, messageID: messageID)
        var header = HeaderField.render("From", m.from.headerValue)
        if let replyTo = m.replyTo { header += HeaderField.render("Reply-To", replyTo.headerValue) }
        if !m.to.isEmpty { header += HeaderField.render("To", m.to.map(\.headerValue).joined(separator: ", ")) }
        if !m.cc.isEmpty { header += HeaderField.render("Cc", m.cc.map(\.headerValue).joined(separator: ", ")) }
        if !m.subject.isEmpty { header += HeaderField.render("Subject", HeaderField.unstructured(m.subject)) }
        header += HeaderField.render("Date", RFC5322Date.format(date))
        header += HeaderField.render("Message-ID", "<\(messageID)>")
        header += HeaderField.render("MIME-Version", "1.0")
        for (index, field) in m.headers.enumerated() {
            let rendered = HeaderField.render(field.name, field.value)
            guard HeaderField.fitsLines(rendered) else {
                throw MIMEBuildError(field: "headers.\(field.name)",
                                     message: "value too long to fit a header line of \(HeaderField.maxLineLength) characters (header \(index + 1))")
            }
            header += rendered
        }
        return Array(header.utf8) + (try body(m)).render(seed: boundarySeed)
    }

    /// The body entity: one text part, an alternative of two, and a mixed wrapper when there are attachments.
    static func body(_ m: OutgoingMessage) throws -> MIMEEntity {
        var texts: [MIMEEntity] = []
        if let text = m.text { texts.append(textPart(text, subtype: "plain")) }
        if let html = m.html { texts.append(textPart(html, subtype: "html")) }
        let content: MIMEEntity? = texts.count > 1 ? .multipart(subtype: "alternative", parts: texts) : texts.first
        if m.attachments.isEmpty, let content { return content }
        var parts = content.map { [$0] } ?? []
        for (index, attachment) in m.attachments.enumerated() {
            parts.append(try AttachmentPart.entity(attachment, field: "attachments[\(index)]"))
        }
        return .multipart(subtype: "mixed", parts: parts)
    }

    static func textPart(_ text: String, subtype: String) -> MIMEEntity {
        let body = TextBody(text)
        return .leaf(headers: [("Content-Type", "text/\(subtype); charset=utf-8"),
                               ("Content-Transfer-Encoding", body.contentTransferEncoding)],
                     body: body.encoded)
    }

    /// Everything that would make the message wrong, named by its field; attachments are checked as built.
    static func check(_ m: OutgoingMessage, messageID: String) throws {
        let idBytes = messageID.utf8
        guard idBytes.contains(UInt8(ascii: "@")),
              idBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }) else {
            throw MIMEBuildError(field: "message_id", message: "\"\(messageID)\" is not id@host without angle brackets")
        }
        try checkMailbox(m.from, field: "from")
        if let replyTo = m.replyTo { try checkMailbox(replyTo, field: "reply_to") }
        for (name, list) in [("to", m.to), ("cc", m.cc), ("bcc", m.bcc)] {
            for (index, mailbox) in list.enumerated() { try checkMailbox(mailbox, field: "\(name)[\(index)]") }
        }
        guard !m.recipients.isEmpty else {
            throw MIMEBuildError(field: "to", message: "at least one recipient is needed in to, cc or bcc")
        }
        try HeaderField.checkText(m.subject, field: "subject")
        guard m.text != nil || m.html != nil || !m.attachments.isEmpty else {
            throw MIMEBuildError(field: "text", message: "the message has no text, html or attachments")
        }
        for field in m.headers { try HeaderField.check(name: field.name, value: field.value) }
    }

    /// A mailbox made without `Mailbox.parse` gets the same checks.
    static func checkMailbox(_ mailbox: Mailbox, field: String) throws {
        if let why = Mailbox.problem(address: mailbox.address) { throw MIMEBuildError(field: field, message: why) }
        if let name = mailbox.name, name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw MIMEBuildError(field: field, message: "control characters in the display name")
        }
    }
}
