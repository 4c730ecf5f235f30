#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Delivery
import HTTPAPI
import MailStore
import Prometheus
import SMTPProtocol
import Synchronization

/// The server's metrics, served by `AdminServer` at `GET /metrics` in the Prometheus text exposition
/// format 0.0.4, kept and written by swift-prometheus (`PrometheusCollectorRegistry`):
///
///     # HELP apus_messages_accepted_total Messages accepted (on disk, 250 after DATA), by listener.
///     # TYPE apus_messages_accepted_total counter
///     apus_messages_accepted_total{listener="mx"} 12
///
/// Each instance has its own registry (tests run many servers in one process; nothing is global). Every
/// label set known in advance is registered at 0 from the start, so that `rate()` sees the first
/// increment. Counters and gauges are atomics, so a hook costs no lock on the accept path.
public final class ServerMetrics: Sendable {
    /// What `apus_build_info` reports.
    public static let defaultVersion = "0.1.0-dev"
    /// `Content-Type` of `GET /metrics`.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static let listeners: [ListenerKind] = [.mx, .submission, .submissions]
    /// Where messages come in, for `apus_accept_duration_seconds`: the SMTP listeners and the HTTP API.
    static let sources = listeners.map(\.rawValue) + ["api"]
    /// Histogram buckets from 1 ms to 10 s.
    static let durationBuckets: [Duration] = [.milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
                                              .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                              .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10)]

    /// `apus_deliveries_total`'s labels: one delivery outcome of one kind.
    struct DeliveryKey: Hashable {
        var result: DeliveryEvent.Result
        var kind: DeliveryEvent.Kind
    }

    /// An SMTP reply of class 4 (temporary failure) or 5 (permanent failure) on one listener.
    struct ReplyKey: Hashable {
        var listener: ListenerKind
        /// 4 or 5.
        var replyClass: Int
    }

    public let version: String
    /// Every family; `render()` writes it out.
    public let registry = PrometheusCollectorRegistry()
    let connections: [ListenerKind: Counter]
    let openConnections: [ListenerKind: Gauge]
    let refusedConnections: [ListenerKind: Counter]
    let acceptedMessages: [ListenerKind: Counter]
    let authFailures: [ListenerKind: Counter]
    let replies: [ReplyKey: Counter]
    let deliveries: [DeliveryKey: Counter]
    let acceptDurations: [String: DurationHistogram]
    let webhookDeliveries: [Bool: Counter]
    /// `apus_events_total` by event type, made once (the registry's lookup builds the metric's key anew).
    let events: [String: Counter]
    /// `apus_queue_messages`, registered once the queue size is known.
    let queueMessages = Mutex<Gauge?>(nil)
    /// Reads the providers' current pace at each scrape (set by the server).
    let paceSource = Mutex<(@Sendable () -> [String: Double])?>(nil)

    public init(version: String = ServerMetrics.defaultVersion) {
        self.version = version
        let registry = self.registry
        func perListener(_ name: String) -> [ListenerKind: Counter] {
            Dictionary(uniqueKeysWithValues: Self.listeners.map {
                ($0, registry.makeCounter(descriptor: Self.named(name), labels: [("listener", $0.rawValue)]))
            })
        }
        registry.makeGauge(descriptor: Self.named("apus_build_info"), labels: [("version", version)]).set(to: 1)
        connections = perListener("apus_connections_total")
        openConnections = Dictionary(uniqueKeysWithValues: Self.listeners.map {
            ($0, registry.makeGauge(descriptor: Self.named("apus_connections_open"), labels: [("listener", $0.rawValue)]))
        })
        refusedConnections = perListener("apus_connections_refused_total")
        acceptedMessages = perListener("apus_messages_accepted_total")
        var replies: [ReplyKey: Counter] = [:]
        for listener in Self.listeners {
            for k in [4, 5] {
                replies[ReplyKey(listener: listener, replyClass: k)] = registry.makeCounter(
                    descriptor: Self.named("apus_smtp_replies_total"), labels: [("listener", listener.rawValue), ("class", "\(k)xx")])
            }
        }
        self.replies = replies
        authFailures = perListener("apus_auth_failures_total")
        var deliveries: [DeliveryKey: Counter] = [:]
        for result in DeliveryEvent.Result.allCases {
            for kind in DeliveryEvent.Kind.allCases {
                deliveries[DeliveryKey(result: result, kind: kind)] = registry.makeCounter(
                    descriptor: Self.named("apus_deliveries_total"), labels: [("result", result.rawValue), ("kind", kind.rawValue)])
            }
        }
        self.deliveries = deliveries
        events = Dictionary(uniqueKeysWithValues: EventType.allCases.map {
            ($0.rawValue, Self.eventCounter(registry, $0.rawValue))
        })
        acceptDurations = Dictionary(uniqueKeysWithValues: Self.sources.map {
            ($0, registry.makeDurationHistogram(descriptor: Self.named("apus_accept_duration_seconds"),
                                                labels: [("listener", $0)], buckets: Self.durationBuckets))
        })
        webhookDeliveries = Dictionary(uniqueKeysWithValues: [(true, "ok"), (false, "failed")].map {
            ($0.0, registry.makeCounter(descriptor: Self.named("apus_webhook_deliveries_total"), labels: [("result", $0.1)]))
        })
    }

    /// A family's name and its HELP text.
    static func named(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help[name] ?? "")
    }

    /// The HELP line of each family.
    static let help: [String: String] = [
        "apus_build_info":
            "Always 1; the version of the running server is in the label.",
        "apus_connections_open":
            "SMTP connections open now, by listener.",
        "apus_accept_duration_seconds":
            "Time to accept a message: from the end of DATA (or the API request) to the 250, queue fsync included.",
        "apus_webhook_deliveries_total":
            "Webhook POSTs by result: ok (2xx answer) or failed (will be retried).",
        "apus_events_total":
            "Events stored (queued, delivered, deferred, bounced, delay, suppressed, complained, unsubscribed), by type.",
        "apus_api_requests_total":
            "HTTP API requests by route pattern and response status.",
        "apus_api_request_duration_seconds":
            "HTTP API request duration (to the response head), by route pattern.",
        "apus_queue_messages":
            "Messages in the queue (<data_dir>/queue): waiting for delivery, for a retry, or held by [delivery] hold_remote.",
        "apus_smtp_replies_total":
            "SMTP replies with a 4xx (temporary) or 5xx (permanent) code sent to clients, by listener and class.",
        "apus_deliveries_total":
            "Delivery attempts per recipient by outcome (sent, deferred for a retry, bounced) and kind (local: Maildir, LMTP, MDA or pipe; remote: SMTP).",
        "apus_connections_total":
            "SMTP connections accepted, by listener (refused ones included).",
        "apus_connections_refused_total":
            "SMTP connections answered 421 and closed at once: over [limits] max_connections or max_connections_per_ip.",
        "apus_messages_accepted_total":
            "Messages accepted (on disk, 250 after DATA), by listener.",
        "apus_provider_deliveries_total":
            "Remote deliveries per recipient to each [delivery.providers.NAME], by outcome.",
        "apus_provider_pace":
            "Messages per minute each provider may get now; halved for 10 minutes after a rate-limit deferral.",
        "apus_auth_failures_total":
            "AUTH attempts refused: wrong credentials, or a client blocked after [limits] max_auth_failures.",
    ]

    static func eventCounter(_ registry: PrometheusCollectorRegistry, _ type: String) -> Counter {
        registry.makeCounter(descriptor: Self.named("apus_events_total"), labels: [("type", type)])
    }

    // MARK: Hooks (called from the listeners, the SMTP delegate, the queue runner, the event recorder, the API)

    func connectionOpened(_ listener: ListenerKind) {
        connections[listener]?.increment()
        openConnections[listener]?.increment()
    }

    func connectionClosed(_ listener: ListenerKind) {
        openConnections[listener]?.decrement()
    }

    /// Over `[limits] max_connections` or `max_connections_per_ip`: answered 421 and closed.
    func connectionRefused(_ listener: ListenerKind) {
        refusedConnections[listener]?.increment()
    }

    func messageAccepted(_ listener: ListenerKind) {
        acceptedMessages[listener]?.increment()
    }

    /// How long one accepted message took, by where it came in (`sources`).
    func accepted(after duration: Duration, source: String) {
        acceptDurations[source]?.record(duration)
    }

    /// `code` is the reply's three-digit code; only classes 4 and 5 are counted.
    func reply(_ code: Int, on listener: ListenerKind) {
        replies[ReplyKey(listener: listener, replyClass: code / 100)]?.increment()
    }

    func authFailed(_ listener: ListenerKind) {
        authFailures[listener]?.increment()
    }

    /// Keyed by outcome and kind only (an event's message id and recipient are not labels).
    func delivery(_ event: DeliveryEvent) {
        deliveries[DeliveryKey(result: event.result, kind: event.kind)]?.increment()
        if let provider = event.provider { providerCounter(provider, event.result).increment() }
    }

    func providerCounter(_ provider: String, _ result: DeliveryEvent.Result) -> Counter {
        registry.makeCounter(descriptor: Self.named("apus_provider_deliveries_total"),
                             labels: [("provider", provider), ("result", result.rawValue)])
    }

    /// Where `apus_provider_pace` comes from: the providers' pacing state, asked at each scrape.
    func setPaceSource(_ source: @escaping @Sendable () -> [String: Double]) {
        paceSource.withLock { $0 = source }
    }

    /// One event in the store (`EventType` raw value).
    func event(type: String) {
        (events[type] ?? Self.eventCounter(registry, type)).increment()
    }

    /// One webhook POST: `ok` for a 2xx answer.
    func webhookDelivery(ok: Bool) {
        webhookDeliveries[ok]?.increment()
    }

    /// One request on `[listen] api`.
    func apiRequest(_ request: APIRequestObservation) {
        registry.makeCounter(descriptor: Self.named("apus_api_requests_total"),
                             labels: [("route", request.route), ("status", "\(request.status)")]).increment()
        registry.makeDurationHistogram(descriptor: Self.named("apus_api_request_duration_seconds"),
                                       labels: [("route", request.route)], buckets: Self.durationBuckets).record(request.duration)
    }

    /// `<data_dir>/queue`'s message count at a scrape; nil (unknown) leaves the family out.
    func setQueueMessages(_ count: Int?) {
        queueMessages.withLock { gauge in
            guard let count else {
                if let old = gauge { registry.unregisterGauge(old) }
                gauge = nil
                return
            }
            if gauge == nil {
                gauge = registry.makeGauge(descriptor: Self.named("apus_queue_messages"))
            }
            gauge?.set(to: Double(count))
        }
    }

    // MARK: Exposition

    /// The text for `GET /metrics`.
    public func render() -> String {
        if let source = paceSource.withLock({ $0 }) {
            for (provider, pace) in source() {
                registry.makeGauge(descriptor: Self.named("apus_provider_pace"), labels: [("provider", provider)]).set(to: pace)
                // Every known provider's outcomes from the start, at 0, so that rate() sees the first one.
                for result in DeliveryEvent.Result.allCases { _ = providerCounter(provider, result) }
            }
        }
        return registry.emitToString()
    }

    // MARK: Queue size

    /// Queued messages (`<id>.msg` files, DESIGN.md §3) in `directory`, counted with `readdir` at scrape time
    /// (no list of names is built). Counting stops at `limit`, so a huge queue costs a bounded scan; nil when
    /// the directory cannot be read.
    static func countQueuedMessages(in directory: String, limit: Int = 1_000_000) -> Int? {
        guard let dir = opendir(directory) else { return nil }
        defer { closedir(dir) }
        var count = 0
        while count < limit, let entry = readdir(dir) {
            let isMessage = withUnsafeBytes(of: entry.pointee.d_name) { raw -> Bool in
                let name = raw.prefix(while: { $0 != 0 })
                return name.count > 4 && name.first != UInt8(ascii: ".") && name.suffix(4).elementsEqual(".msg".utf8)
            }
            if isMessage { count += 1 }
        }
        return count
    }
}
