import AsyncHTTPClient
import Foundation
import Logging
import MailStore
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// Sends every event to the `[[webhooks]]` endpoints that want it: one signed POST per event, from the store's
/// outbox, so nothing is lost across a restart (DESIGN §3c).
///
/// - Each endpoint has its own loop and at most `concurrency` requests in flight: a slow or dead endpoint
///   delays only its own events, never delivery or another endpoint.
/// - Any 2xx acknowledges (the row is removed). Anything else, or no answer within `timeout`, is retried by
///   `WebhookRetryPolicy`; after 24 h the event is dropped with a log line.
/// - Delivery is at-least-once: a crash between the endpoint's 2xx and the removal of the row sends that event
///   again after the restart. At graceful shutdown requests in flight are finished first, so an orderly
///   restart sends nothing twice.
/// - The loop sleeps until the next due retry or until `wake()` says new events were stored; it never polls.
public final class WebhookDispatcher: Service, Sendable {
    public struct Endpoint: Sendable {
        public var url: String
        public var secret: [UInt8]
        public init(url: String, secret: [UInt8]) {
            self.url = url
            self.secret = secret
        }
    }

    let endpoints: [Endpoint]
    let store: any MailStore
    let client: HTTPClient
    let policy: WebhookRetryPolicy
    let concurrency: Int
    let timeout: TimeAmount
    let logger: Logger
    let onResult: @Sendable (_ endpoint: String, _ ok: Bool) -> Void
    let signals: [String: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)]
    let clock: @Sendable () -> Date

    /// `caFile`: extra trust beside the system store (`[delivery] ca_file`).
    public init(endpoints: [Endpoint], store: any MailStore, caFile: String, policy: WebhookRetryPolicy = WebhookRetryPolicy(),
                concurrency: Int = 4, timeout: TimeAmount = .seconds(10), logger: Logger,
                clock: @escaping @Sendable () -> Date = { Date() },
                onResult: @escaping @Sendable (String, Bool) -> Void = { _, _ in }) throws {
        self.endpoints = endpoints
        self.store = store
        self.policy = policy
        self.concurrency = concurrency
        self.timeout = timeout
        self.logger = logger
        self.onResult = onResult
        self.clock = clock
        let configuration = try OutboundHTTPConfiguration.make(caFile: caFile, connectTimeout: .seconds(5), readTimeout: timeout)
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var signals: [String: (AsyncStream<Void>, AsyncStream<Void>.Continuation)] = [:]
        for endpoint in endpoints {
            signals[endpoint.url] = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        }
        self.signals = signals.mapValues { (stream: $0.0, continuation: $0.1) }
    }

    /// New events are in the store.
    public func wake() {
        for signal in signals.values { signal.continuation.yield() }
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for endpoint in endpoints {
                group.addTask { await self.loop(endpoint) }
            }
        }
        try? await client.shutdown()
    }

    func loop(_ endpoint: Endpoint) async {
        guard let signal = signals[endpoint.url] else { return }
        var wakeups = signal.stream.makeAsyncIterator()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let due: [WebhookDelivery]
            do {
                due = try await store.dueWebhookDeliveries(endpoint: endpoint.url, now: clock(), limit: concurrency * 8)
            } catch {
                logger.error("webhook \(endpoint.url): cannot read the outbox: \(error)")
                due = []
            }
            if !due.isEmpty {
                await send(due, to: endpoint)
                continue
            }
            // Nothing due: sleep until the next retry or a wake-up, whichever comes first.
            let next = (try? await store.nextWebhookAttempt(endpoint: endpoint.url)) ?? nil
            let wait = next.map { max(0.05, $0.timeIntervalSince(clock())) } ?? 3600
            await raceWake(&wakeups, seconds: wait)
        }
    }

    /// Waits for a wake-up or `seconds`, whichever comes first, or graceful shutdown.
    func raceWake(_ iterator: inout AsyncStream<Void>.Iterator, seconds: Double) async {
        // The timer is cancelled (and awaited) as soon as a wake-up arrives.
        let timer = Task { [self] in
            try? await Task.sleep(for: .milliseconds(Int(min(seconds, 3600) * 1000)))
            if !Task.isCancelled { wake() }
        }
        await withGracefulShutdownHandler {
            _ = await iterator.next()
        } onGracefulShutdown: {
            self.wake()
        }
        timer.cancel()
        _ = await timer.value
    }

    func send(_ deliveries: [WebhookDelivery], to endpoint: Endpoint) async {
        await withDiscardingTaskGroup { group in
            var started = 0
            for delivery in deliveries {
                if started >= concurrency { break }
                started += 1
                group.addTask { await self.deliver(delivery, to: endpoint) }
            }
        }
    }

    func deliver(_ delivery: WebhookDelivery, to endpoint: Endpoint) async {
        let body = API.jsonBytes(delivery.event)
        let now = clock()
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Apus-Webhooks/1")
        request.headers.add(name: "Apus-Event-Id", value: String(delivery.event.id))
        request.headers.add(name: WebhookSignature.headerName,
                            value: WebhookSignature.header(secret: endpoint.secret, timestamp: Int(now.timeIntervalSince1970), body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        var failure: String?
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            if !(200..<300).contains(Int(response.status.code)) { failure = "HTTP \(response.status.code)" }
        } catch {
            failure = "\(error)"
        }
        do {
            if let failure {
                onResult(endpoint.url, false)
                let next = policy.next(attempts: delivery.attempts, created: delivery.created, now: now)
                try await store.webhookFailed(delivery.id, nextAttempt: next, error: failure)
                if let next {
                    logger.notice("webhook \(endpoint.url): event \(delivery.event.id) (\(delivery.event.event.type.rawValue)) failed: \(failure); attempt \(delivery.attempts + 1), next at \(JSON.time(next))")
                } else {
                    logger.error("webhook \(endpoint.url): gave up on event \(delivery.event.id) (\(delivery.event.event.type.rawValue)) after 24 hours: \(failure)")
                }
            } else {
                onResult(endpoint.url, true)
                try await store.webhookDelivered(delivery.id)
            }
        } catch {
            logger.error("webhook \(endpoint.url): cannot record the outcome of event \(delivery.event.id): \(error)")
        }
    }
}
