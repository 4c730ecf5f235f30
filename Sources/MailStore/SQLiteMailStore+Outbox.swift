import Foundation
import GRDB

extension SQLiteMailStore {
    public func dueWebhookDeliveries(endpoint: String, now: Date, limit: Int) async throws -> [WebhookDelivery] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT o.id AS outbox_id, o.endpoint, o.attempts, o.created AS outbox_created, e.*
                FROM webhook_outbox o JOIN event e ON e.id = o.event_id
                WHERE o.endpoint = ? AND o.next_attempt <= ? ORDER BY o.event_id LIMIT ?
                """, arguments: [endpoint, now.timeIntervalSince1970, limit]).map { row in
                    WebhookDelivery(id: row["outbox_id"], endpoint: row["endpoint"], event: Self.event(from: row),
                                    attempts: row["attempts"], created: Date(timeIntervalSince1970: row["outbox_created"]))
                }
        }
    }

    public func nextWebhookAttempt(endpoint: String) async throws -> Date? {
        try await pool.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(next_attempt) FROM webhook_outbox WHERE endpoint = ?",
                                arguments: [endpoint]).map { Date(timeIntervalSince1970: $0) }
        }
    }

    public func webhookDelivered(_ id: Int64) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM webhook_outbox WHERE id = ?", arguments: [id]) }
    }

    public func webhookFailed(_ id: Int64, nextAttempt: Date?, error: String) async throws {
        try await pool.write { db in
            if let nextAttempt {
                try db.execute(sql: "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ? WHERE id = ?",
                               arguments: [nextAttempt.timeIntervalSince1970, error, id])
            } else {
                try db.execute(sql: "DELETE FROM webhook_outbox WHERE id = ?", arguments: [id])
            }
        }
    }

    // MARK: Suppressions

    public func suppression(domain: String, address: String) async throws -> Suppression? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM suppression WHERE domain = ? AND address = ?",
                             arguments: [domain.lowercased(), address.lowercased()]).map(Self.suppression(from:))
        }
    }

    @discardableResult
    public func suppress(_ entry: Suppression) async throws -> Suppression {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO suppression (domain, address, reason, created, message_id, detail) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (domain, address) DO UPDATE SET reason = excluded.reason, created = excluded.created,
                    message_id = excluded.message_id, detail = excluded.detail
                """, arguments: [entry.domain, entry.address, entry.reason.rawValue, entry.created.timeIntervalSince1970,
                                 entry.messageID, entry.detail])
        }
        return entry
    }

    @discardableResult
    public func unsuppress(domain: String, address: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM suppression WHERE domain = ? AND address = ?",
                           arguments: [domain.lowercased(), address.lowercased()])
            return db.changesCount > 0
        }
    }

    public func suppressions(domain: String?, after: String?, limit: Int) async throws -> [Suppression] {
        try await pool.read { db in
            // The cursor "domain\0address" split in two: SQLite compares text with an embedded NUL badly.
            let cursor = (after ?? "").split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let afterDomain = cursor.first ?? "", afterAddress = cursor.count > 1 ? cursor[1] : ""
            var sql = "SELECT * FROM suppression WHERE (domain > ? OR (domain = ? AND address > ?))"
            var arguments: StatementArguments = [afterDomain, afterDomain, afterAddress]
            if let domain { sql += " AND domain = ?"; _ = arguments.append(contentsOf: [domain.lowercased()]) }
            sql += " ORDER BY domain, address LIMIT ?"
            _ = arguments.append(contentsOf: [limit])
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.suppression(from:))
        }
    }

    static func suppression(from row: Row) -> Suppression {
        Suppression(domain: row["domain"], address: row["address"],
                    reason: Suppression.Reason(rawValue: row["reason"]) ?? .manual,
                    created: Date(timeIntervalSince1970: row["created"]), messageID: row["message_id"],
                    detail: row["detail"])
    }

    // MARK: Statistics and retention

    public func sendingStats(domain: String, since: Date) async throws -> SendingStats {
        try await pool.read { db in
            let t = since.timeIntervalSince1970, d = domain.lowercased()
            let attempted = try Int.fetchOne(db, sql: """
                SELECT COUNT(DISTINCT message_id || char(0) || recipient) FROM event
                WHERE domain = ? AND time >= ? AND type IN ('delivered', 'bounced')
                """, arguments: [d, t]) ?? 0
            let bounced = try Int.fetchOne(db, sql: """
                SELECT COUNT(DISTINCT message_id || char(0) || recipient) FROM event
                WHERE domain = ? AND time >= ? AND type = 'bounced'
                """, arguments: [d, t]) ?? 0
            let complained = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event WHERE domain = ? AND time >= ? AND type = 'complained'",
                                              arguments: [d, t]) ?? 0
            return SendingStats(attempted: attempted, bounced: bounced, complained: complained)
        }
    }

    public func prune(before: Date, idempotencyBefore: Date) async throws {
        try await pool.write { db in
            let t = before.timeIntervalSince1970
            try db.execute(sql: "DELETE FROM webhook_outbox WHERE event_id IN (SELECT id FROM event WHERE time < ?)", arguments: [t])
            try db.execute(sql: "DELETE FROM event WHERE time < ?", arguments: [t])
            try db.execute(sql: "DELETE FROM recipient WHERE message_id IN (SELECT id FROM message WHERE created < ?)", arguments: [t])
            try db.execute(sql: "DELETE FROM message WHERE created < ?", arguments: [t])
            try db.execute(sql: "DELETE FROM idempotency WHERE created < ?", arguments: [idempotencyBefore.timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM key_usage WHERE day < ?", arguments: [Self.day(of: before)])
        }
    }

    /// "2026-12-05": the UTC day of `date`, as key usage is counted.
    public static func day(of date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1)
    }
}
