import Foundation

/// When to renew a certificate, and when to try again after a failure. Pure: the clock and the jitter
/// come from the caller.
public enum RenewalSchedule {
    /// Renewal starts at 2/3 of the lifetime (Let's Encrypt's 90 days: day 60), moved earlier by up to
    /// 1/30 of the lifetime (`jitter` in 0...1) so that many servers set up the same day do not all ask
    /// the CA at the same minute.
    public static func renewalDate(notBefore: Date, notAfter: Date, jitter: Double) -> Date {
        let lifetime = notAfter.timeIntervalSince(notBefore)
        let spread = lifetime / 30 * min(max(jitter, 0), 1)
        return notBefore.addingTimeInterval(lifetime * 2 / 3 - spread)
    }

    /// Delay before retry number `attempt` (1, 2, …) after a failure: 1 min, 2, 4, … capped at 6 h.
    public static func retryDelay(attempt: Int) -> TimeInterval {
        let minutes = pow(2.0, Double(max(attempt, 1) - 1))
        return min(minutes * 60, 6 * 3600)
    }

    /// When the renewal loop wakes next: the earliest renewal date still ahead, or after `failures`
    /// consecutive failed rounds the backoff delay if sooner (a date already passed belongs to a failed
    /// certificate: it waits for the backoff, never a busy loop); at least every 12 h, so that a
    /// certificate replaced by hand is re-read.
    public static func nextAttempt(renewalDates: [Date], failures: Int, now: Date) -> Date {
        var next = renewalDates.filter { $0 > now }.min() ?? now.addingTimeInterval(12 * 3600)
        if failures > 0 { next = min(next, now.addingTimeInterval(retryDelay(attempt: failures))) }
        return min(next, now.addingTimeInterval(12 * 3600))
    }

    /// Why a certificate must be obtained now, or nil when it is fine until its renewal date.
    public enum Reason: String, Sendable {
        case missing = "no certificate yet"
        case selfSigned = "the certificate is self-signed"
        case due = "the certificate is due for renewal"
        case namesChanged = "the certificate does not cover the name"
        case forced = "renewal forced"
    }
}
