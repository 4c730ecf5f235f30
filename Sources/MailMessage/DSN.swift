import Foundation

/// A delivery status notification (RFC 3464), the "bounce" sent to an envelope sender when some recipients
/// failed for good or the queue gave up on them.
///
/// ```
/// From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
/// To: <sender@example.com>
/// Subject: Undelivered mail returned to sender
/// Auto-Submitted: auto-replied                          ← RFC 3834: autoresponders must not answer
/// Content-Type: multipart/report; report-type=delivery-status; boundary="…"
///
/// --…  text/plain             what happened, in words
/// --…  message/delivery-status  per-message fields, blank line, per-recipient fields (RFC 3464 §2.2, §2.3)
/// --…  text/rfc822-headers    the original message's header (RFC 6522 §4)
/// ```
/// The DSN itself is sent with the null reverse-path `<>` (RFC 5321 §4.5.5), so it can never bounce back.
public struct DSN: Sendable {
    /// One failed recipient (RFC 3464 §2.3).
    public struct Recipient: Sendable, Hashable {
        /// The address the message was delivered to (`Final-Recipient: rfc822;…`).
        public var finalRecipient: String
        /// The address the sender used, when alias expansion changed it (`Original-Recipient`).
        public var originalRecipient: String?
        /// `failed` or `delayed` (RFC 3464 §2.3.3).
        public var action: String
        /// Enhanced status code, e.g. `5.1.1` (RFC 3463).
        public var status: String
        /// `dns;host.name` of the server that answered, if any.
        public var remoteMTA: String?
        /// The server's reply or our own reason (`Diagnostic-Code: smtp;…`).
        public var diagnostic: String?
        /// One plain sentence on what a known provider code means and what to fix; in the text part only.
        public var diagnosis: String?
        /// For `delayed`: when the queue gives up (`Will-Retry-Until`, RFC 3464 §2.3.9).
        public var willRetryUntil: Date?

        public init(finalRecipient: String, originalRecipient: String? = nil, action: String = "failed",
                    status: String, remoteMTA: String? = nil, diagnostic: String? = nil, diagnosis: String? = nil,
                    willRetryUntil: Date? = nil) {
            self.diagnosis = diagnosis
            self.willRetryUntil = willRetryUntil
            self.finalRecipient = finalRecipient
            self.originalRecipient = originalRecipient
            self.action = action
            self.status = status
            self.remoteMTA = remoteMTA
            self.diagnostic = diagnostic
        }
    }

    /// Our host name (`Reporting-MTA`, the From domain).
    public var reportingMTA: String
    /// The envelope sender of the failed message: the DSN's recipient.
    public var sender: String
    /// The failed message's queue id (`X-Apus-Queue-ID`, and in the text).
    public var queueID: String
    public var arrivalDate: Date
    public var date: Date
    public var recipients: [Recipient]
    /// The original message, CRLF line endings; only its header is included.
    public var originalMessage: [UInt8]
    /// Unique part of the boundary and Message-ID; random by default, fixed in tests.
    public var token: String

    public init(reportingMTA: String, sender: String, queueID: String, arrivalDate: Date, date: Date,
                recipients: [Recipient], originalMessage: [UInt8],
                token: String = String(UInt64.random(in: 0...UInt64.max), radix: 36)) {
        self.reportingMTA = reportingMTA
        self.sender = sender
        self.queueID = queueID
        self.arrivalDate = arrivalDate
        self.date = date
        self.recipients = recipients
        self.originalMessage = originalMessage
        self.token = token
    }

    /// The original message's header section: everything before the first empty line.
    public static func headerSection(of message: [UInt8]) -> [UInt8] {
        let crlfcrlf: [UInt8] = [13, 10, 13, 10]
        if message.count >= 4 {
            for i in 0...(message.count - 4) where message[i] == 13 && Array(message[i..<(i + 4)]) == crlfcrlf {
                return Array(message[..<(i + 2)])
            }
        }
        return message
    }

    /// The whole DSN message, CRLF line endings, ready to queue.
    public var rendered: [UInt8] {
        let boundary = "=_apus-dsn-\(token)"
        let delayed = !recipients.isEmpty && recipients.allSatisfy { $0.action == "delayed" }
        let gaveUp = !delayed && recipients.contains { $0.status.hasPrefix("4") }
        var out = ""
        out += "From: Mail Delivery System <MAILER-DAEMON@\(reportingMTA)>\r\n"
        out += "To: <\(Self.clean(sender))>\r\n"
        out += delayed ? "Subject: Delayed mail (still being retried)\r\n" : "Subject: Undelivered mail returned to sender\r\n"
        out += "Date: \(RFC5322Date.format(date))\r\n"
        out += "Message-ID: <dsn.\(queueID).\(token)@\(reportingMTA)>\r\n"
        out += "Auto-Submitted: auto-replied\r\n"
        out += "X-Apus-Queue-ID: \(queueID)\r\n"
        out += "MIME-Version: 1.0\r\n"
        out += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"\(boundary)\"\r\n"
        out += "\r\n"
        out += "This is a MIME-encapsulated delivery status notification.\r\n"

        out += "\r\n--\(boundary)\r\n"
        out += "Content-Type: text/plain; charset=utf-8\r\n"
        out += "Content-Transfer-Encoding: 8bit\r\n"   // a diagnosis may hold "→", a reply UTF-8 (RFC 6531)
        out += "Content-Description: Notification\r\n\r\n"
        out += "This is the mail system at \(reportingMTA).\r\n\r\n"
        let count = recipients.count == 1 ? "one recipient" : "\(recipients.count) recipients"
        if delayed {
            out += "Your message (queue id \(queueID)) has not yet been delivered to \(count).\r\n"
            if let until = recipients.compactMap(\.willRetryUntil).max() {
                out += "Delivery is still being tried until \(RFC5322Date.format(until)); you need not send it again.\r\n"
            }
        } else {
            out += "Your message (queue id \(queueID)) could not be delivered to \(count).\r\n"
        }
        if gaveUp {
            out += "Delivery was retried until the time limit ran out.\r\n"
        }
        out += "\r\n"
        for r in recipients {
            out += "<\(Self.clean(r.finalRecipient))>"
            if let mta = r.remoteMTA { out += ": host \(Self.clean(mta)) said:" } else { out += ":" }
            out += "\r\n    \(Self.clean(r.diagnostic ?? "status \(r.status)"))\r\n"
            if let diagnosis = r.diagnosis { out += "    What this means: \(Self.clean(diagnosis))\r\n" }
            out += "\r\n"
        }

        out += "--\(boundary)\r\n"
        out += "Content-Type: message/delivery-status\r\n"
        out += "Content-Description: Delivery report\r\n\r\n"
        // RFC 3464 §2.2: per-message fields.
        out += "Reporting-MTA: dns;\(reportingMTA)\r\n"
        out += "X-Apus-Queue-ID: \(queueID)\r\n"
        out += "Arrival-Date: \(RFC5322Date.format(arrivalDate))\r\n"
        // §2.3: one block per recipient, each after an empty line.
        for r in recipients {
            out += "\r\n"
            if let original = r.originalRecipient, original.lowercased() != r.finalRecipient.lowercased() {
                out += "Original-Recipient: rfc822;\(Self.clean(original))\r\n"
            }
            out += "Final-Recipient: rfc822;\(Self.clean(r.finalRecipient))\r\n"
            out += "Action: \(r.action)\r\n"
            out += "Status: \(r.status)\r\n"
            if let mta = r.remoteMTA { out += "Remote-MTA: dns;\(Self.hostOnly(mta))\r\n" }
            if let diagnostic = r.diagnostic { out += "Diagnostic-Code: smtp;\(Self.clean(diagnostic))\r\n" }
            out += "Last-Attempt-Date: \(RFC5322Date.format(date))\r\n"
            if let until = r.willRetryUntil { out += "Will-Retry-Until: \(RFC5322Date.format(until))\r\n" }
        }

        out += "\r\n--\(boundary)\r\n"
        out += "Content-Type: text/rfc822-headers\r\n"
        out += "Content-Description: Undelivered message header\r\n\r\n"
        var bytes = Array(out.utf8)
        bytes += Self.headerSection(of: originalMessage)
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        return bytes
    }

    /// One line of printable text: CR, LF and other controls become spaces.
    static func clean(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 32 || $0.value == 127 ? " " : $0 }))
    }

    /// "mx.example.com [192.0.2.1]" → "mx.example.com" (a Remote-MTA is a host name).
    static func hostOnly(_ mta: String) -> String {
        String(clean(mta).split(separator: " ").first ?? "")
    }
}
