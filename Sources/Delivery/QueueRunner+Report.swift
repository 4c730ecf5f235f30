import Foundation
import Logging
import MailQueue
import SMTPProtocol

/// The runner's log lines (one per recipient outcome, as Postfix's `status=` lines) and observer events.
extension QueueRunner {
    /// The line and event for one courier result. Deferrals are reported with their retry time later.
    func report(_ result: RecipientResult, route: Route, meta: QueuedMessage, index i: Int) {
        let r = meta.recipients[i], id = meta.id
        let extra = Self.extraFields(r)
        switch result.outcome {
        case .sent:
            observe(.sent, meta: meta, index: i, tls: route.isLocal ? nil : result.tls)
            switch route {
            case .remote, .smarthost:
                logger.notice("sent id=\(id) to=<\(r.address)> relay=\(result.remoteMTA ?? "?") tls=\(result.tls ?? "none") reply=\"\(result.reply)\"\(extra)")
            case .lmtp:
                logger.notice("delivered id=\(id) to=<\(r.address)> relay=lmtp reply=\"\(result.reply)\"")
            case .maildir, .mda, .pipe:
                break   // the courier logged where it went
            }
        case .permanent:
            observe(.bounced, meta: meta, index: i)
            logger.notice("bounced id=\(id) to=<\(r.address)> reason=\"\(r.lastReply ?? "")\"\(extra)")
        case .temporary:
            break
        }
    }

    /// The recipients left pending (not held) until `at`.
    func reportDeferred(_ meta: QueuedMessage, at: Date, held: Set<Int>) {
        let next = ISO8601DateFormatter().string(from: at)
        for (i, r) in meta.recipients.enumerated() where r.state == .pending && !held.contains(i) {
            observe(.deferred, meta: meta, index: i)
            logger.notice("deferred id=\(meta.id) to=<\(r.address)> attempts=\(r.attempts) reason=\"\(r.lastReply ?? "")\" next=\(next)\(Self.extraFields(r))")
        }
    }

    func report(gaveUp i: Int, meta: QueuedMessage) {
        let r = meta.recipients[i]
        observe(.bounced, meta: meta, index: i)
        logger.notice("bounced id=\(meta.id) to=<\(r.address)> reason=\"gave up after \(Bounce.describe(settings.schedule.giveUpAfter)): \(r.lastReply ?? "")\"\(Self.extraFields(r))")
    }

    /// ` provider=gmail diagnosis="…"` when known.
    static func extraFields(_ r: QueuedMessage.Recipient) -> String {
        (r.provider.map { " provider=\($0)" } ?? "") + (r.diagnosis.map { " diagnosis=\"\($0)\"" } ?? "")
    }

    func observe(_ result: DeliveryEvent.Result, meta: QueuedMessage, index i: Int, tls: String? = nil) {
        guard let observer else { return }
        let r = meta.recipients[i]
        let route = router.route(of: r)
        observer(DeliveryEvent(result: result, kind: route.isLocal ? .local : .remote, messageID: meta.id,
                               sender: meta.mailFrom, recipient: r.address, reply: r.lastReply,
                               enhancedStatus: r.lastStatus, diagnosis: r.diagnosis, remoteHost: r.remoteMTA,
                               provider: r.provider, tls: tls))
    }
}
