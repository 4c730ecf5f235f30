import Foundation
import Logging

/// Keeps one certificate per name in `certs/<name>/`: obtains missing, self-signed and due ones, and
/// renews each at 2/3 of its lifetime. A failure keeps the old certificate and is retried with a growing
/// delay (1 min, 2, 4 … 6 h). The listeners pick a new certificate up through the certificate watcher.
public final class CertificateManager: Sendable {
    public let settings: ACMEClient.Settings
    public let names: [String]
    let logger: Logger

    public init(settings: ACMEClient.Settings, names: [String], logger: Logger) {
        self.settings = settings
        self.names = names
        self.logger = logger
    }

    public func status(now: Date = Date()) -> [CertificateStatus] {
        names.map { CertificateStatus(name: $0, certsDirectory: settings.certsDirectory) }
    }

    public struct Outcome: Sendable {
        public var name: String
        /// nil when nothing was needed.
        public var reason: RenewalSchedule.Reason?
        public var error: String?
    }

    /// Obtains every certificate that needs it (all of them with `force`). One client per run.
    public func renew(force: Bool, now: Date = Date(), onChange: @Sendable () -> Void = {}) async -> [Outcome] {
        var outcomes: [Outcome] = []
        var pending: [(String, RenewalSchedule.Reason)] = []
        for status in status(now: now) {
            if let reason = force ? .forced : status.reason(now: now) {
                pending.append((status.name, reason))
            } else {
                outcomes.append(Outcome(name: status.name, reason: nil, error: nil))
            }
        }
        guard !pending.isEmpty else { return outcomes }
        let client: ACMEClient
        do {
            client = try ACMEClient(settings: settings, logger: logger)
        } catch {
            return outcomes + pending.map { Outcome(name: $0.0, reason: $0.1, error: "\(error)") }
        }
        for (name, reason) in pending {
            logger.info("ACME: obtaining a certificate for \(name): \(reason.rawValue)")
            do {
                try await client.obtain(names: [name])
                onChange()
                outcomes.append(Outcome(name: name, reason: reason, error: nil))
            } catch {
                logger.error("ACME: no new certificate for \(name), keeping the current one: \(error)")
                outcomes.append(Outcome(name: name, reason: reason, error: "\(error)"))
            }
        }
        await client.shutdown()
        return outcomes
    }

    /// The server's renewal loop, until cancelled.
    public func run(onChange: @escaping @Sendable () -> Void = {}) async {
        var failures = 0
        while !Task.isCancelled {
            let outcomes = await renew(force: false, onChange: onChange)
            let failed = outcomes.contains { $0.error != nil }
            failures = failed ? failures + 1 : 0
            let now = Date()
            let next = RenewalSchedule.nextAttempt(renewalDates: status(now: now).compactMap(\.renewalDate),
                                                   failures: failures, now: now)
            let wait = max(1, next.timeIntervalSince(now))
            if failed { logger.notice("ACME: next attempt in \(Int(wait)) s") }
            do { try await Task.sleep(for: .seconds(wait)) } catch { return }
        }
    }
}
