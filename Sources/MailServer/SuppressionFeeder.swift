import Foundation
import Logging
import MailMessage
import MailStore

/// Turns bounces that say "this mailbox does not exist" into suppression-list entries for the sender's
/// domain (DESIGN §4). Policy and content refusals (5.7.x) never suppress: they are the sender's problem.
enum SuppressionFeeder {
    static func feed(_ stored: [StoredEvent], store: any MailStore, logger: Logger) async {
        for item in stored where item.event.type == .bounced && !item.event.domain.isEmpty {
            let e = item.event
            guard BounceClassification.classify(status: e.detail["enhanced_status"], reply: e.detail["reply"] ?? "")
                    == .mailboxGone else { continue }
            do {
                if try await store.suppression(domain: e.domain, address: e.recipient) == nil {
                    try await store.suppress(Suppression(domain: e.domain, address: e.recipient, reason: .hardBounce,
                                                         created: e.time, messageID: e.messageID, detail: e.detail["reply"]))
                    logger.notice("suppressed <\(e.recipient)> for \(e.domain): hard bounce of \(e.messageID) (\(e.detail["reply"] ?? ""))")
                }
            } catch {
                logger.error("suppression list: cannot add <\(e.recipient)> for \(e.domain): \(error)")
            }
        }
    }
}
