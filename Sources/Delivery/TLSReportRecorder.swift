import Foundation
import Logging
import MailStore

/// Counts the outcome of every outbound TLS negotiation for TLS-RPT (RFC 8460 §4): per UTC day, recipient
/// policy domain, policy, result type and hosts. Counts gather in memory and go to the store in one
/// transaction by `flush()` (every minute, and before reports are built), so a delivery costs no disk write.
public actor TLSReportRecorder {
    let store: any TLSReportStore
    let clock: @Sendable () -> Date
    let logger: Logger
    var pending: [TLSResultRow: Int] = [:]

    public init(store: any TLSReportStore, clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    /// One TLS session (or attempt at one) to `mx` [`ip`] for `domain` under `policy`: a success when
    /// `failure` is nil.
    public func record(domain: String, policy: TLSReportPolicy, failure: TLSResultType?, sendingIP: String?,
                       mx: String, ip: String) {
        var row = TLSResultRow(day: Self.day(clock()), policyDomain: domain.lowercased(), policyType: policy.kind.rawValue,
                               policyStrings: policy.strings, mxHosts: policy.mxHosts, count: 0)
        if let failure = failure ?? policy.failure {
            row.resultType = failure.rawValue
            row.sendingIP = sendingIP ?? ""
            row.receivingMX = mx
            row.receivingIP = ip
        }
        pending[row, default: 0] += 1
    }

    /// Writes the counts gathered so far to the store. On failure they stay for the next flush.
    public func flush() async {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = [:]
        let rows = batch.map { key, count in
            var row = key
            row.count = count
            return row
        }
        do { try await store.addTLSResults(rows) } catch {
            logger.error("TLS-RPT: cannot store \(rows.count) counter(s), keeping them for the next try: \(error)")
            for (key, count) in batch { pending[key, default: 0] += count }
        }
    }

    /// Counts not yet flushed (tests).
    public func unflushed() -> [TLSResultRow: Int] { pending }

    /// "2026-12-05": the UTC day of `date`.
    public static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}
