#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Delivery
import NIOConcurrencyHelpers
import NIOCore
import SMTPProtocol

/// The server's counters, served by `AdminServer` at `GET /metrics` in the Prometheus text exposition
/// format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/):
///
///     # HELP apus_messages_accepted_total Messages accepted (queued, 250 after DATA), by listener.
///     # TYPE apus_messages_accepted_total counter
///     apus_messages_accepted_total{listener="mx"} 12
///
/// A family is a `# HELP` line, a `# TYPE` line and one sample per label set; label values are quoted with
/// `\\`, `\"` and `\n` escaped. Every label set that can occur is printed from the start, at 0, so that
/// `rate()` sees the first increment.
///
/// The counters are plain integers behind one lock: they change once per connection, reply, message or
/// delivery, next to work that costs far more (a TLS handshake, an fsync), so an uncontended lock is cheap.
/// A scrape copies them under the lock and formats the copy outside it.
public final class ServerMetrics: Sendable {
    /// What `apus_build_info` reports.
    public static let defaultVersion = "0.1.0-dev"

    public struct Counts: Sendable, Equatable {
        public var connections: [ListenerKind: Int] = [:]
        public var openConnections: [ListenerKind: Int] = [:]
        public var refusedConnections: [ListenerKind: Int] = [:]
        public var acceptedMessages: [ListenerKind: Int] = [:]
        public var replies: [ReplyKey: Int] = [:]
        public var authFailures: [ListenerKind: Int] = [:]
        public var deliveries: [DeliveryEvent: Int] = [:]
        /// `<data_dir>/queue` at the last scrape; nil until known (then the family is left out).
        public var queueMessages: Int?

        public init() {}
    }

    /// An SMTP reply of class 4 (temporary failure) or 5 (permanent failure) on one listener.
    public struct ReplyKey: Sendable, Hashable {
        public var listener: ListenerKind
        /// 4 or 5.
        public var replyClass: Int
        public init(listener: ListenerKind, replyClass: Int) {
            self.listener = listener
            self.replyClass = replyClass
        }
    }

    public let version: String
    private let counts = NIOLockedValueBox(Counts())

    public init(version: String = ServerMetrics.defaultVersion) {
        self.version = version
    }

    // MARK: Hooks (called from the listeners, the SMTP delegate and the queue runner)

    func connectionOpened(_ listener: ListenerKind) {
        counts.withLockedValue {
            $0.connections[listener, default: 0] += 1
            $0.openConnections[listener, default: 0] += 1
        }
    }

    func connectionClosed(_ listener: ListenerKind) {
        counts.withLockedValue { $0.openConnections[listener, default: 0] -= 1 }
    }

    /// Over `[limits] max_connections` or `max_connections_per_ip`: answered 421 and closed.
    func connectionRefused(_ listener: ListenerKind) {
        counts.withLockedValue { $0.refusedConnections[listener, default: 0] += 1 }
    }

    func messageAccepted(_ listener: ListenerKind) {
        counts.withLockedValue { $0.acceptedMessages[listener, default: 0] += 1 }
    }

    /// `code` is the reply's three-digit code; only classes 4 and 5 are counted.
    func reply(_ code: Int, on listener: ListenerKind) {
        let replyClass = code / 100
        guard replyClass == 4 || replyClass == 5 else { return }
        counts.withLockedValue { $0.replies[ReplyKey(listener: listener, replyClass: replyClass), default: 0] += 1 }
    }

    func authFailed(_ listener: ListenerKind) {
        counts.withLockedValue { $0.authFailures[listener, default: 0] += 1 }
    }

    func delivery(_ event: DeliveryEvent) {
        // Counted by result and kind only: the event also carries the message id, recipient and reply.
        let key = DeliveryEvent(result: event.result, kind: event.kind)
        counts.withLockedValue { $0.deliveries[key, default: 0] += 1 }
    }

    func setQueueMessages(_ count: Int?) {
        counts.withLockedValue { $0.queueMessages = count }
    }

    public var snapshot: Counts { counts.withLockedValue { $0 } }

    // MARK: Exposition

    /// The text for `GET /metrics` (`Content-Type: text/plain; version=0.0.4`).
    public func render() -> String { Self.render(snapshot, version: version) }

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static let listeners: [ListenerKind] = [.mx, .submission, .submissions]

    public static func render(_ c: Counts, version: String) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [([(String, String)], Int)]) {
            out += "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples {
                let set = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
                out += "\(name)\(set) \(value)\n"
            }
        }
        func perListener(_ values: [ListenerKind: Int]) -> [([(String, String)], Int)] {
            listeners.map { ([("listener", $0.rawValue)], values[$0, default: 0]) }
        }
        family("apus_build_info", "gauge", "Always 1; the version of the running server is in the label.",
               [([("version", version)], 1)])
        family("apus_connections_total", "counter", "SMTP connections accepted, by listener (refused ones included).",
               perListener(c.connections))
        family("apus_connections_open", "gauge", "SMTP connections open now, by listener.",
               perListener(c.openConnections))
        family("apus_connections_refused_total", "counter",
               "SMTP connections answered 421 and closed at once: over [limits] max_connections or max_connections_per_ip.",
               perListener(c.refusedConnections))
        family("apus_messages_accepted_total", "counter", "Messages accepted (on disk, 250 after DATA), by listener.",
               perListener(c.acceptedMessages))
        family("apus_smtp_replies_total", "counter",
               "SMTP replies with a 4xx (temporary) or 5xx (permanent) code sent to clients, by listener and class.",
               listeners.flatMap { listener in
                   [4, 5].map { k in
                       ([("listener", listener.rawValue), ("class", "\(k)xx")],
                        c.replies[ReplyKey(listener: listener, replyClass: k), default: 0])
                   }
               })
        family("apus_auth_failures_total", "counter",
               "AUTH attempts refused: wrong credentials, or a client blocked after [limits] max_auth_failures.",
               perListener(c.authFailures))
        family("apus_deliveries_total", "counter",
               "Delivery attempts per recipient by outcome (sent, deferred for a retry, bounced) and kind (local: Maildir, LMTP, MDA or pipe; remote: SMTP).",
               DeliveryEvent.Result.allCases.flatMap { result in
                   DeliveryEvent.Kind.allCases.map { kind in
                       ([("result", result.rawValue), ("kind", kind.rawValue)],
                        c.deliveries[DeliveryEvent(result: result, kind: kind), default: 0])
                   }
               })
        if let queued = c.queueMessages {
            family("apus_queue_messages", "gauge", "Messages in the queue (<data_dir>/queue): waiting for delivery, for a retry, or held by [delivery] hold_remote.",
                   [([], queued)])
        }
        return out
    }

    /// Label values: backslash, double quote and line feed escaped (format 0.0.4).
    static func escapeLabelValue(_ value: String) -> String { escape(value, quote: true) }

    /// HELP text: backslash and line feed escaped (format 0.0.4).
    static func escapeHelp(_ text: String) -> String { escape(text, quote: false) }

    /// Works on Unicode scalars: as a `Character`, "\r\n" is one grapheme and would not match "\n".
    private static func escape(_ text: String, quote: Bool) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\"" where quote: out.append(contentsOf: "\\\"".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
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

/// Counts the 4xx and 5xx replies written on one SMTP connection, for `apus_smtp_replies_total`. It sits
/// between TLS and `SMTPServerHandler`, so it sees the replies in plain text; STARTTLS inserts its TLS
/// handler at the front of the pipeline, below this one. A reply's last line is `NNN text` (a space after
/// the code); the lines before it are `NNN-text` (RFC 5321 §4.2.1), so each reply is counted once even
/// when several are written in one buffer.
final class SMTPReplyCounter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let metrics: ServerMetrics
    let listener: ListenerKind

    init(metrics: ServerMetrics, listener: ListenerKind) {
        self.metrics = metrics
        self.listener = listener
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        for code in Self.finalReplyCodes(unwrapOutboundIn(data).readableBytesView) {
            metrics.reply(code, on: listener)
        }
        context.write(data, promise: promise)
    }

    /// The codes of the complete replies in `bytes`: lines of the form `NNN<SP>…` or a bare `NNN`.
    static func finalReplyCodes(_ bytes: ByteBufferView) -> [Int] {
        var codes: [Int] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            let line = bytes[index..<end]
            let digits = line.prefix(3)
            if digits.count == 3, digits.allSatisfy({ (0x30...0x39).contains($0) }) {
                let next = line.dropFirst(3).first
                if next == nil || next == UInt8(ascii: " ") || next == UInt8(ascii: "\r") {
                    codes.append(digits.reduce(0) { $0 * 10 + Int($1 - 0x30) })
                }
            }
            index = end == bytes.endIndex ? end : bytes.index(after: end)
        }
        return codes
    }
}
