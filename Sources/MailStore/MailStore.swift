import Foundation

/// What happened to messages, kept for the API, `apus events`, webhooks and the suppression list (DESIGN §1, §3c).
///
/// The store is a protocol so that a PostgreSQL implementation can replace the embedded SQLite one
/// (`SQLiteMailStore`) for several nodes (DESIGN §7); callers never see SQL. Every method is safe to call from
/// any task.
///
/// - Events are appended in batches (`record`) and get increasing integer ids: the API's cursor.
/// - Each recipient's latest status is kept beside the events, for `GET /v1/messages/{id}`.
/// - Idempotency records keep the first response to an `Idempotency-Key` for 24 h.
/// - API key usage counts messages per key and UTC day, for `--daily-limit`.
/// - The webhook outbox holds one row per event and endpoint until the endpoint acknowledges it.
/// - Suppressions are per sender domain.
public protocol MailStore: Sendable {
    /// Appends the events in order, updates the recipients' statuses and queues webhook deliveries, in one
    /// transaction. Returns them with their ids.
    func record(_ events: [NewEvent]) async throws -> [StoredEvent]
    /// Events with `id > after` in id order, filtered; `domain` nil means every domain.
    func events(_ query: EventQuery) async throws -> [StoredEvent]
    /// A message and its recipients, or nil.
    func message(id: String) async throws -> MessageRecord?

    /// The response kept for `(keyID, key)` if it is younger than `maxAge`.
    func idempotentResponse(keyID: String, key: String, notBefore: Date) async throws -> StoredResponse?
    /// Keeps the response for `(keyID, key)`; the first one kept wins.
    func saveIdempotentResponse(keyID: String, key: String, response: StoredResponse, at: Date) async throws

    /// Adds `count` to the key's usage of `day` ("2026-12-05") unless that would pass `limit`; returns whether
    /// it was added.
    func consumeQuota(keyID: String, day: String, count: Int, limit: Int?) async throws -> Bool
    /// The key's usage of `day`.
    func usage(keyID: String, day: String) async throws -> Int

    /// Outbox rows for `endpoint` due at `now`, oldest first.
    func dueWebhookDeliveries(endpoint: String, now: Date, limit: Int) async throws -> [WebhookDelivery]
    /// The earliest `nextAttempt` of the endpoint's outbox, if any.
    func nextWebhookAttempt(endpoint: String) async throws -> Date?
    /// The endpoint acknowledged the delivery: the row is removed.
    func webhookDelivered(_ id: Int64) async throws
    /// The attempt failed: try again at `nextAttempt`, or drop the row when `nextAttempt` is nil (gave up).
    func webhookFailed(_ id: Int64, nextAttempt: Date?, error: String) async throws

    func suppression(domain: String, address: String) async throws -> Suppression?
    /// Adds or replaces the entry; returns it.
    @discardableResult
    func suppress(_ entry: Suppression) async throws -> Suppression
    /// Removes the entry; returns whether there was one.
    @discardableResult
    func unsuppress(domain: String, address: String) async throws -> Bool
    /// Entries in (domain, address) order after the cursor `after` ("domain\u{0}address").
    func suppressions(domain: String?, after: String?, limit: Int) async throws -> [Suppression]

    /// Counts of delivered, bounced (hard, by recipient) and complained events per domain since `since`.
    func sendingStats(domain: String, since: Date) async throws -> SendingStats

    /// Removes events and message records older than `before`, idempotency records older than
    /// `idempotencyBefore`.
    func prune(before: Date, idempotencyBefore: Date) async throws
}

/// The kinds of event (DESIGN §3c).
public enum EventType: String, Sendable, Codable, CaseIterable, Hashable {
    case queued, delivered, deferred, bounced, delay, suppressed, complained, unsubscribed

    /// The recipient status an event leaves behind, for `GET /v1/messages/{id}`.
    public var recipientStatus: String? {
        switch self {
        case .queued: return "queued"
        case .delivered: return "delivered"
        case .deferred, .delay: return "deferred"
        case .bounced: return "bounced"
        case .suppressed: return "suppressed"
        case .complained, .unsubscribed: return nil
        }
    }
}

/// An event to record.
public struct NewEvent: Sendable, Hashable {
    public var type: EventType
    public var time: Date
    /// The queue id ("" for events not about one message, e.g. a manual suppression).
    public var messageID: String
    public var recipient: String
    /// The sender's domain (lowercased): the scope an API key sees.
    public var domain: String
    /// Extra facts: reply, diagnosis, remote_host, provider, from, source, reason…
    public var detail: [String: String]
    /// For `queued`: the envelope sender, kept on the message record.
    public var sender: String?

    public init(type: EventType, time: Date, messageID: String, recipient: String, domain: String,
                detail: [String: String] = [:], sender: String? = nil) {
        self.type = type
        self.time = time
        self.messageID = messageID
        self.recipient = recipient
        self.domain = domain
        self.detail = detail
        self.sender = sender
    }
}

/// A recorded event: `NewEvent` plus its id.
public struct StoredEvent: Sendable, Hashable {
    public var id: Int64
    public var event: NewEvent
    public init(id: Int64, event: NewEvent) {
        self.id = id
        self.event = event
    }
}

public struct EventQuery: Sendable, Hashable {
    public var after: Int64
    public var limit: Int
    public var types: Set<EventType>
    public var recipient: String?
    public var messageID: String?
    public var domain: String?
    public var since: Date?

    public init(after: Int64 = 0, limit: Int = 100, types: Set<EventType> = [], recipient: String? = nil,
                messageID: String? = nil, domain: String? = nil, since: Date? = nil) {
        self.after = after
        self.limit = limit
        self.types = types
        self.recipient = recipient
        self.messageID = messageID
        self.domain = domain
        self.since = since
    }
}

public struct MessageRecord: Sendable, Hashable {
    public struct Recipient: Sendable, Hashable {
        public var address: String
        public var status: String
        public var lastReply: String?
        public init(address: String, status: String, lastReply: String?) {
            self.address = address
            self.status = status
            self.lastReply = lastReply
        }
    }
    public var id: String
    public var sender: String
    public var domain: String
    public var created: Date
    public var recipients: [Recipient]
}

public struct StoredResponse: Sendable, Hashable {
    public var status: Int
    public var body: [UInt8]
    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

public struct WebhookDelivery: Sendable, Hashable {
    public var id: Int64
    public var endpoint: String
    public var event: StoredEvent
    public var attempts: Int
    public var created: Date
}

public struct Suppression: Sendable, Hashable {
    public enum Reason: String, Sendable, CaseIterable, Codable {
        case hardBounce = "hard-bounce", complaint, unsubscribe, manual
    }
    public var domain: String
    public var address: String
    public var reason: Reason
    public var created: Date
    /// The message that caused it, when there is one.
    public var messageID: String?
    /// The reply or report that caused it, in a line.
    public var detail: String?

    public init(domain: String, address: String, reason: Reason, created: Date, messageID: String? = nil,
                detail: String? = nil) {
        self.domain = domain.lowercased()
        self.address = address.lowercased()
        self.reason = reason
        self.created = created
        self.messageID = messageID
        self.detail = detail
    }
}

public struct SendingStats: Sendable, Hashable {
    /// Recipients with at least one `delivered` or `bounced` outcome.
    public var attempted: Int
    public var bounced: Int
    public var complained: Int
    public init(attempted: Int, bounced: Int, complained: Int) {
        self.attempted = attempted
        self.bounced = bounced
        self.complained = complained
    }
}
