import Foundation
import GRDB
import Logging
import MailStore
import Testing

/// The embedded store on a real SQLite file: ids and cursors, recipient statuses, idempotency, quota, the
/// webhook outbox, suppressions and retention.
struct SQLiteMailStoreTests {
    static func temporaryStore(webhooks: [SQLiteMailStore.WebhookRoute] = []) throws -> (SQLiteMailStore, String) {
        let dir = NSTemporaryDirectory() + "apus-store-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return (try SQLiteMailStore(path: dir + "/apus.sqlite", webhooks: webhooks), dir)
    }

    static let t0 = Date(timeIntervalSince1970: 1_780_000_000)

    static func event(_ type: EventType, _ id: String, _ rcpt: String, at offset: TimeInterval = 0,
                      domain: String = "example.com", reply: String? = nil) -> NewEvent {
        var detail: [String: String] = [:]
        detail["reply"] = reply
        return NewEvent(type: type, time: t0.addingTimeInterval(offset), messageID: id, recipient: rcpt, domain: domain,
                        detail: detail, sender: type == .queued ? "app@\(domain)" : nil)
    }

    @Test func idsIncreaseAndTheCursorPages() async throws {
        let (store, dir) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stored = try await store.record((0..<5).map { Self.event(.queued, "m\($0)", "r\($0)@x.test") })
        #expect(stored.map(\.id) == stored.map(\.id).sorted())
        #expect(Set(stored.map(\.id)).count == 5)
        let first = try await store.events(EventQuery(after: 0, limit: 2))
        #expect(first.map(\.event.messageID) == ["m0", "m1"])
        let rest = try await store.events(EventQuery(after: first.last!.id, limit: 10))
        #expect(rest.map(\.event.messageID) == ["m2", "m3", "m4"])
        #expect(try await store.events(EventQuery(after: rest.last!.id)).isEmpty)
    }

    @Test func filtersByTypeRecipientDomainAndTime() async throws {
        let (store, dir) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await store.record([
            Self.event(.queued, "a", "one@x.test"), Self.event(.delivered, "a", "one@x.test", at: 10),
            Self.event(.queued, "b", "two@x.test", domain: "other.test"), Self.event(.bounced, "b", "two@x.test", at: 20, domain: "other.test"),
        ])
        #expect(try await store.events(EventQuery(types: [.delivered])).map(\.event.messageID) == ["a"])
        #expect(try await store.events(EventQuery(recipient: "TWO@x.test")).count == 2)
        #expect(try await store.events(EventQuery(domain: "example.com")).count == 2)
        #expect(try await store.events(EventQuery(since: Self.t0.addingTimeInterval(5))).count == 2)
    }

    @Test func recipientStatusFollowsTheLatestEvent() async throws {
        let (store, dir) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await store.record([Self.event(.queued, "m", "a@x.test"), Self.event(.queued, "m", "b@x.test"),
                                    Self.event(.deferred, "m", "a@x.test", at: 1, reply: "451 4.2.1 busy"),
                                    Self.event(.delivered, "m", "a@x.test", at: 2, reply: "250 2.0.0 ok"),
                                    Self.event(.bounced, "m", "b@x.test", at: 3, reply: "550 5.1.1 no such user")])
        let message = try #require(try await store.message(id: "m"))
        #expect(message.sender == "app@example.com")
        #expect(message.recipients.map(\.status) == ["delivered", "bounced"])
        #expect(message.recipients.map(\.lastReply) == ["250 2.0.0 ok", "550 5.1.1 no such user"])
        #expect(try await store.message(id: "nope") == nil)
    }

    /// Statuses come from the events: a reply is kept until a later event brings another, events without a
    /// status (a complaint) change nothing, and recipients keep the order of their first event.
    @Test func recipientsAreReadFromTheEvents() async throws {
        let (store, dir) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await store.record([Self.event(.queued, "m", "b@x.test"), Self.event(.queued, "m", "a@x.test"),
                                    Self.event(.deferred, "m", "b@x.test", at: 1, reply: "451 4.7.0 greylisted"),
                                    Self.event(.delivered, "m", "b@x.test", at: 2),
                                    Self.event(.complained, "m", "b@x.test", at: 3),
                                    Self.event(.queued, "other", "a@x.test")])
        let message = try #require(try await store.message(id: "m"))
        #expect(message.recipients == [
            MessageRecord.Recipient(address: "b@x.test", status: "delivered", lastReply: "451 4.7.0 greylisted"),
            MessageRecord.Recipient(address: "a@x.test", status: "queued", lastReply: nil),
        ])
    }

    /// A database written by an older version, whose message has its recipients in the `recipient` table and
    /// (pruned or never recorded) no events: they are still shown.
    @Test func recipientRowsOfAnOlderVersionAreStillRead() async throws {
        let (store, dir) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = store
        let queue = try DatabaseQueue(path: dir + "/apus.sqlite")
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO message (id, sender, domain, created) VALUES ('old', 'a@example.com', 'example.com', 1)")
            try db.execute(sql: """
                INSERT INTO recipient (message_id, address, status, last_reply, updated)
                VALUES ('old', 'x@y.test', 'bounced', '550 5.1.1 gone', 2)
                """)
        }
        let message = try #require(try await store.message(id: "old"))
        #expect(message.recipients == [MessageRecord.Recipient(address: "x@y.test", status: "bounced", lastReply: "550 5.1.1 gone")])
    }

    @Test func idempotencyKeepsTheFirstResponseFor24Hours() async throws {
        let (store, dir) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = StoredResponse(status: 202, body: Array("{\"id\":\"1\"}".utf8))
        try await store.saveIdempotentResponse(keyID: "k", key: "abc", response: first, at: Self.t0)
        try await store.saveIdempotentResponse(keyID: "k", key: "abc", response: StoredResponse(status: 202, body: [1]), at: Self.t0.addingTimeInterval(60))
        #expect(try await store.idempotentResponse(keyID: "k", key: "abc", notBefore: Self.t0.addingTimeInterval(-86_400)) == first)
        #expect(try await store.idempotentResponse(keyID: "other", key: "abc", notBefore: .distantPast) == nil)
        #expect(try await store.idempotentResponse(keyID: "k", key: "abc", notBefore: Self.t0.addingTimeInterval(1)) == nil)
    }

    @Test func dailyQuotaStopsAtTheLimit() async throws {
        let (store, dir) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try await store.consumeQuota(keyID: "k", day: "2026-12-05", count: 1, limit: 2))
        #expect(try await store.consumeQuota(keyID: "k", day: "2026-12-05", count: 1, limit: 2))
        #expect(try await store.consumeQuota(keyID: "k", day: "2026-12-05", count: 1, limit: 2) == false)
        #expect(try await store.consumeQuota(keyID: "k", day: "2026-12-06", count: 1, limit: 2))
        #expect(try await store.consumeQuota(keyID: "k", day: "2026-12-05", count: 5, limit: nil))
        #expect(try await store.usage(keyID: "k", day: "2026-12-05") == 7)
        #expect(SQLiteMailStore.day(of: Date(timeIntervalSince1970: 86_399)) == "1970-01-01")
    }

    @Test func outboxHoldsEachEventPerMatchingEndpointUntilAcknowledged() async throws {
        let (store, dir) = try Self.temporaryStore(webhooks: [.init(endpoint: "A", types: []), .init(endpoint: "B", types: [.bounced])])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await store.record([Self.event(.queued, "m", "a@x.test"), Self.event(.bounced, "m", "a@x.test", at: 1)])
        let now = Self.t0.addingTimeInterval(10)
        let a = try await store.dueWebhookDeliveries(endpoint: "A", now: now, limit: 10)
        let b = try await store.dueWebhookDeliveries(endpoint: "B", now: now, limit: 10)
        #expect(a.map(\.event.event.type) == [.queued, .bounced])
        #expect(b.map(\.event.event.type) == [.bounced])
        try await store.webhookDelivered(a[0].id)
        try await store.webhookFailed(a[1].id, nextAttempt: now.addingTimeInterval(20), error: "HTTP 500")
        #expect(try await store.dueWebhookDeliveries(endpoint: "A", now: now, limit: 10).isEmpty)
        let retried = try await store.dueWebhookDeliveries(endpoint: "A", now: now.addingTimeInterval(20), limit: 10)
        #expect(retried.map(\.attempts) == [1])
        #expect(try await store.nextWebhookAttempt(endpoint: "A") == now.addingTimeInterval(20))
        try await store.webhookFailed(retried[0].id, nextAttempt: nil, error: "gave up")
        #expect(try await store.nextWebhookAttempt(endpoint: "A") == nil)
    }

    @Test func suppressionsArePerDomainAndCaseInsensitive() async throws {
        let (store, dir) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await store.suppress(Suppression(domain: "Example.com", address: "Bob@X.test", reason: .hardBounce, created: Self.t0, messageID: "m"))
        #expect(try await store.suppression(domain: "example.com", address: "bob@x.test")?.reason == .hardBounce)
        #expect(try await store.suppression(domain: "other.test", address: "bob@x.test") == nil)
        try await store.suppress(Suppression(domain: "example.com", address: "bob@x.test", reason: .unsubscribe, created: Self.t0))
        #expect(try await store.suppression(domain: "example.com", address: "bob@x.test")?.reason == .unsubscribe)
        for i in 0..<3 { try await store.suppress(Suppression(domain: "example.com", address: "u\(i)@x.test", reason: .manual, created: Self.t0)) }
        let page = try await store.suppressions(domain: "example.com", after: nil, limit: 2)
        #expect(page.map(\.address) == ["bob@x.test", "u0@x.test"])
        let next = try await store.suppressions(domain: "example.com", after: "example.com\u{0}u0@x.test", limit: 10)
        #expect(next.map(\.address) == ["u1@x.test", "u2@x.test"])
        #expect(try await store.unsuppress(domain: "example.com", address: "BOB@x.test"))
        #expect(try await store.unsuppress(domain: "example.com", address: "bob@x.test") == false)
    }

    @Test func pruneRemovesOldEventsAndTheirOutboxRows() async throws {
        let (store, dir) = try Self.temporaryStore(webhooks: [.init(endpoint: "A", types: [])])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await store.record([Self.event(.queued, "old", "a@x.test"), Self.event(.queued, "new", "a@x.test", at: 100)])
        try await store.prune(before: Self.t0.addingTimeInterval(50), idempotencyBefore: Self.t0)
        #expect(try await store.events(EventQuery()).map(\.event.messageID) == ["new"])
        #expect(try await store.message(id: "old") == nil)
        #expect(try await store.dueWebhookDeliveries(endpoint: "A", now: .distantFuture, limit: 10).count == 1)
    }

    @Test func sendingStatsCountRecipientsOnce() async throws {
        let (store, dir) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await store.record([Self.event(.delivered, "m", "a@x.test"), Self.event(.bounced, "m", "b@x.test"),
                                    Self.event(.bounced, "m", "b@x.test"), Self.event(.complained, "", "a@x.test")])
        let stats = try await store.sendingStats(domain: "example.com", since: .distantPast)
        #expect(stats == SendingStats(attempted: 2, bounced: 1, complained: 1))
    }

    @Test func recorderBatchesAndFlushes() async throws {
        let (store, dir) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recorder = EventRecorder(store: store, logger: Logger(label: "test"))
        let task = Task { try await recorder.run() }
        for i in 0..<200 { recorder.record(Self.event(.queued, "m\(i)", "a@x.test")) }
        await recorder.flush()
        let events = try await store.events(EventQuery(limit: 1000))
        #expect(events.map(\.event.messageID) == (0..<200).map { "m\($0)" })
        task.cancel()
        _ = try? await task.value
    }
}
