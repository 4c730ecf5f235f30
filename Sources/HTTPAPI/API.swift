import Foundation
import Hummingbird
import Logging
import MailStore

/// The HTTP send API (DESIGN §3c): routes and what they need. `APIServer` serves it on `[listen] api`.
public struct API: Sendable {
    public struct Limits: Sendable {
        public var maxMessageBytes: Int
        public var maxRecipients: Int
        public init(maxMessageBytes: Int, maxRecipients: Int) {
            self.maxMessageBytes = maxMessageBytes
            self.maxRecipients = maxRecipients
        }
    }

    public var hostname: String
    public var store: any MailStore
    public var recorder: EventRecorder
    /// The key with this id, if it exists (keys are reloaded when `api-keys` files change).
    public var credential: @Sendable (String) -> APICredential?
    public var submitter: any MessageSubmitting
    public var limits: Limits
    /// Signs and checks one-click unsubscribe tokens; nil when `[api] public_url` is empty.
    public var unsubscribe: UnsubscribeLinks?
    let failures = CredentialFailureLimiter(maxFailures: 10, window: 300)
    let idempotency = IdempotencyLocks()
    public var clock: @Sendable () -> Date
    /// Told of every finished request (metrics); nil: nothing is measured.
    public var observeRequest: (@Sendable (APIRequestObservation) -> Void)?

    public init(hostname: String, store: any MailStore, recorder: EventRecorder,
                credential: @escaping @Sendable (String) -> APICredential?, submitter: any MessageSubmitting,
                limits: Limits, unsubscribe: UnsubscribeLinks? = nil, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.hostname = hostname
        self.store = store
        self.recorder = recorder
        self.credential = credential
        self.submitter = submitter
        self.limits = limits
        self.unsubscribe = unsubscribe
        self.clock = clock
    }

    /// Every route of the API listener.
    public func router() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        if let observeRequest { router.middlewares.add(RequestMetricsMiddleware(observe: observeRequest)) }
        router.middlewares.add(APIErrorMiddleware())
        router.post("v1/messages") { request, context in try await self.send(request, context: context) }
        router.get("v1/messages/:id") { request, context in try await self.getMessage(request, context: context) }
        router.get("v1/events") { request, context in try await self.listEvents(request, context: context) }
        router.get("v1/suppressions") { request, context in try await self.listSuppressions(request, context: context) }
        router.get("v1/suppressions/:address") { request, context in try await self.getSuppression(request, context: context) }
        router.put("v1/suppressions/:address") { request, context in try await self.putSuppression(request, context: context) }
        router.delete("v1/suppressions/:address") { request, context in try await self.deleteSuppression(request, context: context) }
        router.get("unsubscribe/:token") { request, context in try await self.unsubscribePage(request, context: context) }
        router.post("unsubscribe/:token") { request, context in try await self.unsubscribePost(request, context: context) }
        return router
    }

    /// The key behind `Authorization: Bearer <key>`, or 401 (429 for an address with too many failures).
    func authenticate(_ request: Request, context: APIRequestContext) throws(APIError) -> APICredential {
        if failures.isBlocked(context.remoteAddress) {
            throw .quota("Too many requests with a wrong API key from \(context.remoteAddress); try again in a few minutes",
                         retryAfter: 300)
        }
        guard let header = request.headers[.authorization] else {
            throw .unauthorized("Missing Authorization header; send \"Authorization: Bearer <API key>\" (apus key create)")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw .unauthorized("The Authorization header must be \"Bearer <API key>\"")
        }
        let secret = parts[1].trimmingCharacters(in: .whitespaces)
        guard let id = Self.keyID(of: secret), let key = credential(id), key.verify(secret) else {
            failures.recordFailure(context.remoteAddress)
            context.logger.notice("api: refused key from \(context.remoteAddress): unknown or revoked API key")
            throw .unauthorized("Unknown or revoked API key")
        }
        return key
    }

    /// The id in "apus_<id>_<secret>".
    static func keyID(of secret: String) -> String? {
        let parts = secret.split(separator: "_", maxSplits: 2)
        guard parts.count == 3, parts[0] == "apus", !parts[1].isEmpty else { return nil }
        return String(parts[1])
    }

    /// Query parameter `name` as an integer in `range`, or `fallback` when absent.
    static func intParameter(_ request: Request, _ name: String, default fallback: Int, range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text = request.uri.queryParameters[Substring(name)] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw .invalid("Query parameter \"\(name)\" must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}

/// Serialises requests that share an `Idempotency-Key`, so that two concurrent repeats send once.
actor IdempotencyLocks {
    var held: Set<String> = []
    var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    func acquire(_ key: String) async {
        if held.insert(key).inserted { return }
        await withCheckedContinuation { waiters[key, default: []].append($0) }
    }

    func release(_ key: String) {
        if var queue = waiters[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[key] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            held.remove(key)
        }
    }
}
