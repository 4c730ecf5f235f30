import ConfigFiles
import Foundation
import GRDB

/// The embedded `MailStore`: one SQLite database, `<data_dir>/apus.sqlite`, through GRDB in WAL mode
/// (readers never wait for the writer; `apus events` in another process reads while the server writes).
///
/// `synchronous = NORMAL`: a commit is not fsync'd by itself, so a power cut may lose the last events —
/// the queue (fsync'd before every `250`) stays the record of what was accepted; events are its log.
public final class SQLiteMailStore: MailStore {
    /// One webhook endpoint and the event types it wants (empty = all).
    public struct WebhookRoute: Sendable, Hashable {
        public var endpoint: String
        public var types: Set<EventType>
        public init(endpoint: String, types: Set<EventType>) {
            self.endpoint = endpoint
            self.types = types
        }
    }

    let pool: any DatabaseWriter
    let webhooks: [WebhookRoute]

    /// Opens (creating when missing) the database at `path` and brings its schema up to date.
    public init(path: String, webhooks: [WebhookRoute] = []) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        self.webhooks = webhooks
        try Self.migrator.migrate(pool)
    }

    /// A store in memory only, for when the file cannot be opened (a full disk at start): mail keeps flowing,
    /// events and suppressions added meanwhile live until the next start.
    public init(inMemoryWith webhooks: [WebhookRoute] = []) throws {
        pool = try DatabaseQueue()
        self.webhooks = webhooks
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE event (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    type TEXT NOT NULL, time REAL NOT NULL, message_id TEXT NOT NULL, recipient TEXT NOT NULL,
                    domain TEXT NOT NULL, detail TEXT NOT NULL);
                CREATE INDEX event_message ON event(message_id);
                CREATE INDEX event_time ON event(time);
                CREATE INDEX event_domain ON event(domain, id);
                CREATE TABLE message (
                    id TEXT PRIMARY KEY, sender TEXT NOT NULL, domain TEXT NOT NULL, created REAL NOT NULL);
                CREATE TABLE recipient (
                    message_id TEXT NOT NULL, address TEXT NOT NULL, status TEXT NOT NULL, last_reply TEXT,
                    updated REAL NOT NULL, PRIMARY KEY (message_id, address));
                CREATE TABLE idempotency (
                    key_id TEXT NOT NULL, key TEXT NOT NULL, status INTEGER NOT NULL, body BLOB NOT NULL,
                    created REAL NOT NULL, PRIMARY KEY (key_id, key));
                CREATE TABLE key_usage (
                    key_id TEXT NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (key_id, day));
                CREATE TABLE webhook_outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, endpoint TEXT NOT NULL, event_id INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL, created REAL NOT NULL,
                    last_error TEXT);
                CREATE INDEX webhook_due ON webhook_outbox(endpoint, next_attempt);
                CREATE TABLE suppression (
                    domain TEXT NOT NULL, address TEXT NOT NULL, reason TEXT NOT NULL, created REAL NOT NULL,
                    message_id TEXT, detail TEXT, PRIMARY KEY (domain, address));
                """)
        }
        migrator.registerMigration("tls-report-v1", migrate: SQLiteMailStore.createTLSResultTable)
        return migrator
    }

    // MARK: Events

    public func record(_ events: [NewEvent]) async throws -> [StoredEvent] {
        guard !events.isEmpty else { return [] }
        let webhooks = self.webhooks
        return try await pool.write { db in
            var stored: [StoredEvent] = []
            stored.reserveCapacity(events.count)
            for event in events {
                // Cached statements: prepared once per connection, not at every event (SQLite's parser and
                // GRDB's authorizer were 2% of the server's time under load).
                try db.cachedStatement(
                    sql: "INSERT INTO event (type, time, message_id, recipient, domain, detail) VALUES (?, ?, ?, ?, ?, ?)")
                    .execute(arguments: [event.type.rawValue, event.time.timeIntervalSince1970, event.messageID,
                                         event.recipient, event.domain, Self.encode(event.detail)])
                let id = db.lastInsertedRowID
                stored.append(StoredEvent(id: id, event: event))
                if event.type == .queued, !event.messageID.isEmpty {
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO message (id, sender, domain, created) VALUES (?, ?, ?, ?)")
                        .execute(arguments: [event.messageID, event.sender ?? "", event.domain,
                                             event.time.timeIntervalSince1970])
                }
                for route in webhooks where route.types.isEmpty || route.types.contains(event.type) {
                    try db.cachedStatement(sql: "INSERT INTO webhook_outbox (endpoint, event_id, next_attempt, created) VALUES (?, ?, ?, ?)")
                        .execute(arguments: [route.endpoint, id, event.time.timeIntervalSince1970,
                                             event.time.timeIntervalSince1970])
                }
            }
            return stored
        }
    }

    public func events(_ query: EventQuery) async throws -> [StoredEvent] {
        var sql = "SELECT * FROM event WHERE id > ?"
        var arguments: StatementArguments = [query.after]
        if !query.types.isEmpty {
            sql += " AND type IN (" + query.types.map { _ in "?" }.joined(separator: ",") + ")"
            for type in query.types.sorted(by: { $0.rawValue < $1.rawValue }) { _ = arguments.append(contentsOf: [type.rawValue]) }
        }
        if let recipient = query.recipient { sql += " AND recipient = ? COLLATE NOCASE"; _ = arguments.append(contentsOf: [recipient]) }
        if let messageID = query.messageID { sql += " AND message_id = ?"; _ = arguments.append(contentsOf: [messageID]) }
        if let domain = query.domain { sql += " AND domain = ?"; _ = arguments.append(contentsOf: [domain.lowercased()]) }
        if let since = query.since { sql += " AND time >= ?"; _ = arguments.append(contentsOf: [since.timeIntervalSince1970]) }
        sql += " ORDER BY id LIMIT ?"
        _ = arguments.append(contentsOf: [max(0, query.limit)])
        let finalSQL = sql, finalArguments = arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: finalSQL, arguments: finalArguments).map(Self.event(from:))
        }
    }

    /// The message's recipients and where each stands are read from its events (`recipients(from:)`); the
    /// `recipient` table, which repeated them, is no longer written (two upserts a message were two fifths
    /// of the event store's work on the accept path) and is read only for a message that has no events.
    public func message(id: String) async throws -> MessageRecord? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM message WHERE id = ?", arguments: [id]) else {
                return nil
            }
            let events = try Row.fetchAll(db, sql: "SELECT type, recipient, detail FROM event WHERE message_id = ? ORDER BY id",
                                          arguments: [id])
            var recipients = Self.recipients(from: events.map { (EventType(rawValue: $0["type"]), $0["recipient"], $0["detail"]) })
            if recipients.isEmpty {
                recipients = try Row.fetchAll(
                    db, sql: "SELECT address, status, last_reply FROM recipient WHERE message_id = ? ORDER BY rowid",
                    arguments: [id]).map {
                        MessageRecord.Recipient(address: $0["address"], status: $0["status"], lastReply: $0["last_reply"])
                    }
            }
            return MessageRecord(id: row["id"], sender: row["sender"], domain: row["domain"],
                                 created: Date(timeIntervalSince1970: row["created"]), recipients: recipients)
        }
    }

    /// Each recipient in the order of its first event with a status, with the status of its latest such
    /// event and the latest reply any of them carried (a `deferred` with a reply then a `delivered` without
    /// one keeps the deferral's reply, as the `recipient` table did). `events` in the order recorded.
    static func recipients(from events: [(type: EventType?, recipient: String, detail: String)]) -> [MessageRecord.Recipient] {
        var order: [String] = []
        var latest: [String: (status: String, reply: String?)] = [:]
        for event in events {
            guard let status = event.type?.recipientStatus else { continue }
            let reply = event.detail.contains("\"reply\"") ? decode(event.detail)["reply"] : nil
            if let previous = latest[event.recipient] {
                latest[event.recipient] = (status, reply ?? previous.reply)
            } else {
                order.append(event.recipient)
                latest[event.recipient] = (status, reply)
            }
        }
        return order.map { MessageRecord.Recipient(address: $0, status: latest[$0]!.status, lastReply: latest[$0]!.reply) }
    }

    static func event(from row: Row) -> StoredEvent {
        let type = EventType(rawValue: row["type"]) ?? .queued
        let event = NewEvent(type: type, time: Date(timeIntervalSince1970: row["time"]), messageID: row["message_id"],
                             recipient: row["recipient"], domain: row["domain"], detail: decode(row["detail"]))
        return StoredEvent(id: row["id"], event: event)
    }

    /// `detail` as a JSON object with sorted keys. Written by hand: this runs for every event on the accept
    /// path, and `JSONSerialization` (bridged dictionaries, sorting through NSString) cost 5% of the server's
    /// CPU there. `decode` reads it back with the standard parser (the table test checks the round trip).
    static func encode(_ detail: [String: String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(256)
        for (i, key) in detail.keys.sorted().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONString.append(key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONString.append(detail[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? [:]
    }

    /// Whether the address is suppressed for the domain, read at once (an indexed lookup, microseconds):
    /// for the SMTP RCPT check, which cannot wait for an async call. Errors count as "not suppressed".
    public func isSuppressedNow(domain: String, address: String) -> Bool {
        // One statement, so no transaction is needed around it (`unsafeRead` skips BEGIN and COMMIT); the
        // statement is prepared once per reader connection. This runs at every RCPT of the submission ports.
        (try? pool.unsafeRead { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM suppression WHERE domain = ? AND address = ?"),
                              arguments: [domain.lowercased(), address.lowercased()]) ?? false
        }) ?? false
    }

    // MARK: Idempotency and quota

    public func idempotentResponse(keyID: String, key: String, notBefore: Date) async throws -> StoredResponse? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT status, body FROM idempotency WHERE key_id = ? AND key = ? AND created >= ?",
                                             arguments: [keyID, key, notBefore.timeIntervalSince1970]) else { return nil }
            let body: Data = row["body"]
            return StoredResponse(status: row["status"], body: Array(body))
        }
    }

    public func saveIdempotentResponse(keyID: String, key: String, response: StoredResponse, at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO idempotency (key_id, key, status, body, created) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (key_id, key) DO UPDATE SET status = excluded.status, body = excluded.body,
                    created = excluded.created WHERE idempotency.created < ?
                """, arguments: [keyID, key, response.status, Data(response.body), at.timeIntervalSince1970,
                                 at.timeIntervalSince1970 - 86_400])
        }
    }

    public func consumeQuota(keyID: String, day: String, count: Int, limit: Int?) async throws -> Bool {
        try await pool.write { db in
            let used = try Int.fetchOne(db, sql: "SELECT count FROM key_usage WHERE key_id = ? AND day = ?",
                                        arguments: [keyID, day]) ?? 0
            if let limit, used + count > limit { return false }
            try db.execute(sql: """
                INSERT INTO key_usage (key_id, day, count) VALUES (?, ?, ?)
                ON CONFLICT (key_id, day) DO UPDATE SET count = count + excluded.count
                """, arguments: [keyID, day, count])
            return true
        }
    }

    public func usage(keyID: String, day: String) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count FROM key_usage WHERE key_id = ? AND day = ?", arguments: [keyID, day]) ?? 0
        }
    }
}
