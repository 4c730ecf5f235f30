import Foundation

/// A delivery status notification received from another server (RFC 3464): a `multipart/report;
/// report-type=delivery-status` whose `message/delivery-status` part has per-message fields, an empty line,
/// then one block of fields per recipient:
///
///     Reporting-MTA: dns; mx.example.net
///
///     Final-Recipient: rfc822; gone@example.net
///     Action: failed
///     Status: 5.1.1
///     Diagnostic-Code: smtp; 550 5.1.1 user unknown
///
/// The returned message (or its headers, `text/rfc822-headers`) gives the original Message-ID and From.
public struct DeliveryStatusReport: Sendable, Hashable {
    public struct Recipient: Sendable, Hashable {
        public var finalRecipient: String
        public var action: String
        public var status: String
        public var diagnostic: String?
    }
    public var reportingMTA: String?
    public var recipients: [Recipient]
    /// The Message-ID of the returned original, without angle brackets.
    public var originalMessageID: String?
    /// The From address of the returned original.
    public var originalFrom: String?

    /// The report in `message`, or nil when it is not a delivery-status report.
    public static func parse(_ message: [UInt8]) -> DeliveryStatusReport? {
        let root = MIMEPart.parse(message)
        guard let report = ReportParts.find(root, reportType: "delivery-status"),
              let status = report.parts.first(where: { $0.contentType == "message/delivery-status" }) else { return nil }
        let blocks = ReportParts.fieldBlocks(status.body)
        guard let first = blocks.first else { return nil }
        var recipients: [Recipient] = []
        for block in blocks.dropFirst() where ReportParts.value(block, "Final-Recipient") != nil {
            let final = ReportParts.address(ReportParts.value(block, "Final-Recipient")!)
            guard !final.isEmpty else { continue }
            recipients.append(Recipient(finalRecipient: final,
                                        action: ReportParts.value(block, "Action")?.lowercased() ?? "",
                                        status: ReportParts.value(block, "Status").map { String($0.prefix(while: { !$0.isWhitespace })) } ?? "",
                                        diagnostic: ReportParts.value(block, "Diagnostic-Code").map(ReportParts.afterType)))
        }
        guard !recipients.isEmpty else { return nil }
        let original = ReportParts.returnedHeaders(report)
        return DeliveryStatusReport(reportingMTA: ReportParts.value(first, "Reporting-MTA").map(ReportParts.afterType),
                                    recipients: recipients,
                                    originalMessageID: original?.header("Message-ID").map(ReportParts.stripAngles),
                                    originalFrom: original?.header("From").map(ReportParts.address))
    }
}

/// A complaint in the Abuse Reporting Format (RFC 5965), as Yahoo's and Microsoft's (JMRP) feedback loops
/// send: a `multipart/report; report-type=feedback-report` with a human part, a `message/feedback-report`
/// part (`Feedback-Type: abuse`, `Original-Rcpt-To`, `Original-Mail-From`, `Reported-Domain`, …) and the
/// original message or its headers.
public struct FeedbackReport: Sendable, Hashable {
    public var feedbackType: String
    /// Who complained: `Original-Rcpt-To`, else the To of the returned message.
    public var recipient: String?
    /// `Original-Mail-From`, else the From of the returned message.
    public var originalSender: String?
    public var reportedDomain: String?
    public var sourceIP: String?
    public var originalMessageID: String?
    public var userAgent: String?

    public static func parse(_ message: [UInt8]) -> FeedbackReport? {
        let root = MIMEPart.parse(message)
        guard let report = ReportParts.find(root, reportType: "feedback-report"),
              let part = report.parts.first(where: { $0.contentType == "message/feedback-report" }) else { return nil }
        let fields = ReportParts.fieldBlocks(part.body).first ?? []
        // RFC 5965 §3.1: Feedback-Type is required and is a token; an empty one is no report.
        guard let type = ReportParts.value(fields, "Feedback-Type")?.trimmingCharacters(in: .whitespaces),
              !type.isEmpty else { return nil }
        let original = ReportParts.returnedHeaders(report)
        let rcpt = ReportParts.value(fields, "Original-Rcpt-To").map(ReportParts.address)
            ?? original?.header("To").map(ReportParts.address)
        let sender = ReportParts.value(fields, "Original-Mail-From").map(ReportParts.address)
            ?? original?.header("From").map(ReportParts.address)
        return FeedbackReport(feedbackType: type.lowercased(), recipient: rcpt.flatMap { $0.isEmpty ? nil : $0 },
                              originalSender: sender.flatMap { $0.isEmpty ? nil : $0 },
                              reportedDomain: ReportParts.value(fields, "Reported-Domain")?.lowercased(),
                              sourceIP: ReportParts.value(fields, "Source-IP"),
                              originalMessageID: original?.header("Message-ID").map(ReportParts.stripAngles),
                              userAgent: ReportParts.value(fields, "User-Agent"))
    }
}

/// Shared pieces of the two report formats (RFC 6522 multipart/report).
enum ReportParts {
    /// The `multipart/report` of the given type: the root, or a part of a multipart/mixed around it.
    static func find(_ part: MIMEPart, reportType: String) -> MIMEPart? {
        if part.contentType == "multipart/report", part.contentTypeParameter("report-type")?.lowercased() == reportType {
            return part
        }
        for child in part.parts {
            if let found = find(child, reportType: reportType) { return found }
        }
        return nil
    }

    /// Blocks of `Name: value` fields separated by empty lines (continuations unfolded).
    static func fieldBlocks(_ body: [UInt8]) -> [[(String, String)]] {
        var blocks: [[(String, String)]] = [], current: [(String, String)] = []
        // "\r\n" is one Character in Swift: make line ends plain LF before splitting.
        let text = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !current.isEmpty { blocks.append(current); current = [] }
            } else if line.first == " " || line.first == "\t", !current.isEmpty {
                current[current.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                current.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                                String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
            }
            if blocks.count > 1000 { break }
        }
        if !current.isEmpty { blocks.append(current) }
        return blocks
    }

    static func value(_ block: [(String, String)], _ name: String) -> String? {
        block.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// "rfc822; a@b" → "a@b"; "dns; mx.example" → "mx.example".
    static func afterType(_ value: String) -> String {
        guard let semi = value.firstIndex(of: ";") else { return value.trimmingCharacters(in: .whitespaces) }
        return String(value[value.index(after: semi)...]).trimmingCharacters(in: .whitespaces)
    }

    /// The bare address of "rfc822; a@b", "Name <a@b>", "<a@b>".
    static func address(_ value: String) -> String {
        var v = afterType(value)
        if let open = v.lastIndex(of: "<"), let close = v.lastIndex(of: ">"), open < close {
            v = String(v[v.index(after: open)..<close])
        }
        return v.trimmingCharacters(in: .whitespaces)
    }

    static func stripAngles(_ value: String) -> String {
        value.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
    }

    /// The returned original's header: a `message/rfc822` or `text/rfc822-headers` part.
    static func returnedHeaders(_ report: MIMEPart) -> MIMEPart? {
        guard let part = report.parts.first(where: { $0.contentType == "message/rfc822" || $0.contentType == "text/rfc822-headers" })
        else { return nil }
        return MIMEPart.parse(part.body)
    }
}
