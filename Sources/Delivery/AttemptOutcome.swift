import Foundation
import MailQueue
import SMTPProtocol

/// The pure bookkeeping of one attempt: typed results written into the queued message, then what comes
/// next — a retry time, a give-up, a "delayed" warning. No clock, no I/O: `now` and `jitter` are given, so
/// the runner's unit tests table it with a fake clock.
enum AttemptOutcome {
    /// Records `result` (and its diagnosis) on the recipient it is about.
    static func record(_ result: RecipientResult, diagnosis: String?, on recipient: inout QueuedMessage.Recipient) {
        recipient.attempts += 1
        // For people (logs, `apus queue show`, the DSN): our own reasons read "4.4.1 connect failed: …" as a
        // server's would; the status itself is kept typed in `lastStatus`.
        recipient.lastReply = result.remoteReply != nil || result.outcome == .sent ? result.reply
            : "\(result.status) \(result.reason)"
        recipient.lastStatus = result.status.description
        recipient.remoteMTA = result.remoteMTA
        recipient.diagnosis = diagnosis
        recipient.provider = result.provider
        switch result.outcome {
        case .sent: recipient.state = .sent
        case .permanent: recipient.state = .failed
        case .temporary: break
        }
    }

    /// What the attempt leaves to do.
    struct Settlement: Equatable {
        /// When the deferred recipients are tried again; nil when none is deferred.
        var retryAt: Date?
        /// Recipients that were pending past `give_up_after`: now failed with `4.4.7`.
        var gaveUp: [Int] = []
        /// Recipients to name in a "delayed" DSN now (sent once per message).
        var delayed: [Int] = []
    }

    /// Schedules the still-pending recipients of `meta` (except `held` ones, which wait for `apus queue
    /// retry`): a retry by `schedule`, or give-up; and the one "delayed" warning once `delayWarningAfter` has
    /// passed since arrival (never for `<>`, never when zero).
    static func settle(_ meta: inout QueuedMessage, held: Set<Int>, now: Date, schedule: RetrySchedule,
                       jitter: Double, delayWarningAfter: Duration) -> Settlement {
        var settlement = Settlement()
        let deferred = meta.recipients.indices.filter { meta.recipients[$0].state == .pending && !held.contains($0) }
        guard !deferred.isEmpty else {
            if meta.recipients.indices.contains(where: { held.contains($0) && meta.recipients[$0].state == .pending }) {
                meta.nextAttempt = .distantFuture
            }
            return settlement
        }
        let attempts = deferred.map { meta.recipients[$0].attempts }.max() ?? 1
        switch schedule.next(attempts: attempts, receivedAt: meta.receivedAt, now: now, jitter: jitter) {
        case .retry(let at):
            meta.nextAttempt = at
            settlement.retryAt = at
            let age = now.timeIntervalSince(meta.receivedAt)
            if delayWarningAfter > .zero, meta.delayWarningSent == nil, !meta.mailFrom.isEmpty,
               age >= RetrySchedule.seconds(delayWarningAfter) {
                meta.delayWarningSent = now
                settlement.delayed = deferred
            }
        case .giveUp:
            for i in deferred {
                meta.recipients[i].state = .failed
                meta.recipients[i].lastStatus = EnhancedStatusCode(4, 4, 7).description
            }
            settlement.gaveUp = deferred
        }
        return settlement
    }
}
