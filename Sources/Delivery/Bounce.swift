import Foundation
import MailMessage
import MailQueue
import NIOCore

/// The DSN (RFC 3464) for some recipients of a queued message, as a new queued message from `<>` to the
/// envelope sender: `failed` for permanent failures and give-ups, `delayed` for the one warning about mail
/// still being retried. Pure: the new id and the time are given.
public enum Bounce {
    public enum Kind: String, Sendable {
        case failed, delayed
    }

    /// The DSN's envelope and bytes. `gaveUp` recipients failed because the queue stopped retrying
    /// (`4.4.7`); their last reply is quoted after "gave up after …".
    public static func notice(_ kind: Kind, for meta: QueuedMessage, recipients indices: [Int], gaveUp: Set<Int> = [],
                              hostname: String, giveUpAfter: Duration, body: ByteBuffer, id: String,
                              now: Date) -> (QueuedMessage, [UInt8]) {
        let until = meta.receivedAt.addingTimeInterval(RetrySchedule.seconds(giveUpAfter))
        let recipients = indices.map { i -> DSN.Recipient in
            let r = meta.recipients[i]
            let defaultStatus = kind == .failed && !gaveUp.contains(i) ? "5.0.0" : "4.0.0"
            var diagnostic = r.lastReply
            if gaveUp.contains(i) { diagnostic = "gave up after \(describe(giveUpAfter)): " + (r.lastReply ?? "no reply") }
            return DSN.Recipient(finalRecipient: r.address, originalRecipient: r.original, action: kind.rawValue,
                                 status: gaveUp.contains(i) ? "4.4.7" : r.lastStatus ?? defaultStatus,
                                 remoteMTA: r.remoteMTA, diagnostic: diagnostic, diagnosis: r.diagnosis,
                                 willRetryUntil: kind == .delayed ? until : nil)
        }
        let dsn = DSN(reportingMTA: hostname, sender: meta.mailFrom, queueID: meta.id, arrivalDate: meta.receivedAt,
                      date: now, recipients: recipients, originalMessage: Array(body.readableBytesView))
        let bytes = dsn.rendered
        let envelope = QueuedMessage(id: id, mailFrom: "", recipients: [.init(address: meta.mailFrom, original: meta.mailFrom)],
                                     receivedAt: now, clientAddress: "127.0.0.1", clientName: "localhost",
                                     authenticatedUser: nil, smtputf8: false, size: bytes.count)
        return (envelope, bytes)
    }

    /// "5d", "4h", "30m", "2s": a duration as `apus.toml` writes it.
    public static func describe(_ duration: Duration) -> String {
        let s = Int(RetrySchedule.seconds(duration).rounded())
        if s >= 86400 && s % 86400 == 0 { return "\(s / 86400)d" }
        if s >= 3600 && s % 3600 == 0 { return "\(s / 3600)h" }
        if s >= 60 && s % 60 == 0 { return "\(s / 60)m" }
        return "\(s)s"
    }
}
