import Config
import Delivery
import Foundation
import HTTPAPI
import Logging
import MailStore

/// The event store, its recorder, the webhook dispatcher and the API listener, built from the configuration
/// (DESIGN §1 "Events", §3c). One per `MailServer`.
final class EventWiring: Sendable {
    let store: SQLiteMailStore
    let recorder: EventRecorder
    let webhooks: WebhookDispatcher?
    let unsubscribe: UnsubscribeLinks?
    let logger: Logger

    /// `metrics` counts stored events and webhook POSTs.
    init(config: ApusConfig, configDirectory: String, metrics: ServerMetrics, logger: Logger) throws {
        self.logger = logger
        let routes = config.webhooks.map {
            SQLiteMailStore.WebhookRoute(endpoint: $0.url, types: Set($0.events.compactMap(EventType.init(rawValue:))))
        }
        do {
            try FileManager.default.createDirectory(atPath: config.dataDir, withIntermediateDirectories: true)
            store = try SQLiteMailStore(path: "\(config.dataDir)/apus.sqlite", webhooks: routes)
        } catch {
            // Mail comes first: a store that cannot be opened (a full disk, a damaged file) must not keep the
            // server from receiving and delivering. Events, suppressions and the webhook outbox then live in
            // memory until the next start, and the log says so.
            logger.error("cannot open the event store \(config.dataDir)/apus.sqlite: \(error); events, suppressions and webhooks are kept in memory until the next start (suppressions in the file do not apply meanwhile)")
            do { store = try SQLiteMailStore(inMemoryWith: routes) } catch {
                throw WiringError("cannot open the event store \(config.dataDir)/apus.sqlite, nor one in memory: \(error)")
            }
        }
        var endpoints: [WebhookDispatcher.Endpoint] = []
        for webhook in config.webhooks {
            let path = webhook.secretFile.hasPrefix("/") ? webhook.secretFile : "\(configDirectory)/\(webhook.secretFile)"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw WiringError("cannot read \(path), the secret_file of [[webhooks]] \(webhook.url) (apus.toml line \(webhook.line)); create it with e.g. `openssl rand -hex 32 > \(path)`")
            }
            let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !secret.isEmpty else { throw WiringError("\(path), the secret_file of [[webhooks]] \(webhook.url), is empty") }
            endpoints.append(.init(url: webhook.url, secret: Array(secret.utf8)))
        }
        let dispatcher = endpoints.isEmpty ? nil
            : try WebhookDispatcher(endpoints: endpoints, store: store, caFile: config.delivery.caFile, logger: logger,
                                  onResult: { _, ok in metrics.webhookDelivery(ok: ok) })
        self.webhooks = dispatcher
        let store = self.store
        self.recorder = EventRecorder(store: store, logger: logger) { stored in
            for item in stored { metrics.event(type: item.event.type.rawValue) }
            dispatcher?.wake()
            await SuppressionFeeder.feed(stored, store: store, logger: logger)
        }
        if config.api.publicURL.isEmpty {
            unsubscribe = nil
        } else {
            unsubscribe = UnsubscribeLinks(publicURL: config.api.publicURL,
                                           secret: try Self.secret(at: "\(config.dataDir)/state/unsubscribe.secret"))
        }
    }

    /// 32 random bytes kept in `path` (made on first use, mode 0600).
    static func secret(at path: String) throws -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path), data.count >= 32 { return Array(data) }
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw WiringError("cannot write \(path)")
        }
        return bytes
    }

    /// A delivery outcome from the queue runner as an event.
    static func event(_ delivery: DeliveryEvent, now: Date) -> NewEvent? {
        guard !delivery.messageID.isEmpty else { return nil }
        let type: EventType
        switch delivery.result {
        case .sent: type = .delivered
        case .deferred: type = .deferred
        case .bounced: type = .bounced
        case .delayed: type = .delay
        }
        var detail: [String: String] = ["kind": delivery.kind.rawValue]
        detail["reply"] = delivery.reply
        detail["enhanced_status"] = delivery.enhancedStatus
        detail["diagnosis"] = delivery.diagnosis
        detail["remote_host"] = delivery.remoteHost
        detail["provider"] = delivery.provider
        detail["tls"] = delivery.tls
        return NewEvent(type: type, time: now, messageID: delivery.messageID, recipient: delivery.recipient,
                        domain: Self.domain(of: delivery.sender), detail: detail)
    }

    /// The lowercased domain of `local@domain`; "" for `<>` or a string without "@".
    static func domain(of address: String) -> String {
        guard let at = address.utf8.lastIndex(of: UInt8(ascii: "@")) else { return "" }
        return String(address[address.index(after: at)...]).lowercased()
    }
}

struct WiringError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
