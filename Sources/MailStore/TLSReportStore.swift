import Foundation

/// Counters of outbound TLS negotiations for TLS-RPT (RFC 8460), kept until the day's reports are sent.
///
/// One row per (UTC day, policy domain, policy, result, sending IP, MX host, MX IP): `resultType` is "" for
/// successful sessions (which keep no per-host detail) or one of RFC 8460 §4.3's result types. Adding a
/// row that exists adds to its count. Rows are removed once the report for their day and domain is sent
/// (or the domain turned out to want none), so rows left from earlier days are reports still due.
///
/// Kept in the `MailStore` database rather than in files: a count is one UPSERT in a transaction that is
/// already there, many nodes sharing one PostgreSQL store (DESIGN §7) would report once per domain, and a
/// crash between two flushes loses at most the counts of that minute, not a file half-written.
public protocol TLSReportStore: Sendable {
    /// Adds each row's count to the stored one (creating it when missing), in one transaction.
    func addTLSResults(_ rows: [TLSResultRow]) async throws
    /// Every row of a day up to and including `day` ("2026-12-05"), ordered by day and policy domain.
    func tlsResults(through day: String) async throws -> [TLSResultRow]
    /// Forgets the rows of one day and policy domain (its report was sent, or is not wanted).
    func removeTLSResults(day: String, policyDomain: String) async throws
}
