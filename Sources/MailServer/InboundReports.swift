import Foundation
import HTTPAPI
import Logging
import MailMessage
import MailQueue
import MailStore
import NIOCore

/// Reports that come back to our senders (DESIGN §4, issue 13), read as they are accepted:
///
/// - An ARF complaint (RFC 5965) sent to `[suppression] complaints_address`: the complaining recipient is
///   suppressed for the original sender's domain (when it is one of ours) and a `complained` event recorded.
/// - A delivery status notification (RFC 3464, null sender) to one of our addresses: every recipient that
///   failed with "no such mailbox" is suppressed for the domain the DSN was sent to, with a `bounced` event
///   (detail `async: true`). The DSN is matched to its sender by the envelope: it arrives at the address
///   that sent the original (our own bounces come back the same way), so no VERP address is needed; the
///   original's Message-ID from the returned headers is kept in the event.
///
/// The message itself is delivered like any other: the operator still sees the report.
struct InboundReports: Sendable {
    let recorder: EventRecorder
    let complaintsAddress: String
    let isLocalDomain: @Sendable (String) -> Bool
    /// Checks the tokens of `mailto:` unsubscribe requests; nil when one-click links are off.
    var unsubscribe: UnsubscribeLinks? = nil
    let logger: Logger

    /// A message to `unsubscribe@<local domain>` (the `mailto:` of List-Unsubscribe, RFC 2369): the token in
    /// its subject (a reply's "Re:" allowed) suppresses the recipient it names, as the one-click POST does.
    func unsubscribe(message: ByteBuffer, from client: String) async {
        let subject = MIMEPart.parse(Array(message.readableBytesView)).header("Subject") ?? ""
        let token = subject.split(separator: " ").last.map(String.init) ?? ""
        guard let links = unsubscribe, let target = links.verify(token) else {
            logger.notice("unsubscribe by mail from \(client): no valid token in the subject; nothing suppressed")
            return
        }
        await suppress(domain: target.domain, address: target.recipient, reason: .unsubscribe, messageID: "",
                       detail: "unsubscribe by mail from \(client)")
        recorder.record(NewEvent(type: .unsubscribed, time: Date(), messageID: "", recipient: target.recipient,
                                 domain: target.domain, detail: ["source": "mailto"]))
        logger.notice("unsubscribe: <\(target.recipient)> unsubscribed from \(target.domain) (mailto)")
    }

    /// True when `handle` would read this message: a bounce (null sender) or mail to the complaints address.
    func wouldHandle(mailFrom: String, recipients: [QueuedMessage.Recipient]) -> Bool {
        mailFrom.isEmpty || isToComplaints(recipients)
    }

    func isToComplaints(_ recipients: [QueuedMessage.Recipient]) -> Bool {
        let complaints = complaintsAddress.lowercased()
        return !complaints.isEmpty && recipients.contains {
            $0.address.lowercased() == complaints || $0.original.lowercased() == complaints
        }
    }

    func handle(id: String, mailFrom: String, recipients: [QueuedMessage.Recipient], message: ByteBuffer) async {
        let toComplaints = isToComplaints(recipients)
        guard toComplaints || mailFrom.isEmpty else { return }
        let bytes = Array(message.readableBytesView)
        let now = Date()
        if toComplaints, let report = FeedbackReport.parse(bytes) {
            let sender = EventWiring.domain(of: report.originalSender ?? "")
            let domain = sender.isEmpty ? report.reportedDomain ?? "" : sender
            guard let recipient = report.recipient, isLocalDomain(domain) else {
                logger.notice("complaint report \(id): no recipient or not about one of our domains (sender \(report.originalSender ?? "?")); nothing suppressed")
                return
            }
            await suppress(domain: domain, address: recipient, reason: .complaint, messageID: id,
                           detail: "\(report.feedbackType) report (\(report.userAgent ?? mailFrom))")
            var detail = ["feedback_type": report.feedbackType, "report_id": id]
            detail["original_message_id"] = report.originalMessageID
            detail["source_ip"] = report.sourceIP
            recorder.record(NewEvent(type: .complained, time: now, messageID: "", recipient: recipient.lowercased(),
                                     domain: domain, detail: detail))
            logger.notice("complaint: <\(recipient)> complained about mail from \(domain) (\(report.feedbackType)); suppressed")
            return
        }
        guard mailFrom.isEmpty, let dsn = DeliveryStatusReport.parse(bytes) else { return }
        for target in recipients {
            let domain = EventWiring.domain(of: target.address)
            guard !domain.isEmpty, isLocalDomain(domain) else { continue }
            for failed in dsn.recipients where failed.action == "failed" {
                let reply = failed.diagnostic ?? failed.status
                guard BounceClassification.classify(status: failed.status, reply: reply) == .mailboxGone else { continue }
                await suppress(domain: domain, address: failed.finalRecipient, reason: .hardBounce, messageID: id, detail: reply)
                var detail = ["async": "true", "reply": reply, "enhanced_status": failed.status, "report_id": id]
                detail["original_message_id"] = dsn.originalMessageID
                detail["reporting_mta"] = dsn.reportingMTA
                recorder.record(NewEvent(type: .bounced, time: now, messageID: "", recipient: failed.finalRecipient.lowercased(),
                                         domain: domain, detail: detail))
                logger.notice("bounce report \(id): <\(failed.finalRecipient)> failed (\(reply)); suppressed for \(domain)")
            }
        }
    }

    func suppress(domain: String, address: String, reason: Suppression.Reason, messageID: String, detail: String) async {
        do {
            try await recorder.store.suppress(Suppression(domain: domain, address: address, reason: reason, created: Date(),
                                                          messageID: messageID, detail: detail))
        } catch {
            logger.error("suppression list: cannot add <\(address)> for \(domain): \(error)")
        }
    }
}
