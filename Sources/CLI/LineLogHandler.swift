#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// The server's log handler: the line format of swift-log's `StreamLogHandler`
/// (`2026-12-06T03:09:39+0000 info apus: conn=93vi [SMTPTransport] connect from …`), which operators'
/// log tooling and our tests read, written at a fraction of its cost.
///
/// `StreamLogHandler` formats the time with `localtime(3)`, which makes glibc check `/etc/localtime`
/// (a `stat`) for every line, and writes through stdio's locked stream. A server logs five or six lines
/// per message, so under load that was 5–10% of its CPU time. Here the timestamp is formatted once per
/// second and each line goes out in one `write(2)` to standard error, unbuffered as before: a line is in
/// the log when the call returns, and a crash loses nothing already logged.
struct LineLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadataProvider: Logger.MetadataProvider?
    var metadata = Logger.Metadata() {
        didSet { prettyMetadata = Self.prettify(metadata) }
    }
    private var prettyMetadata: String?
    private let fd: Int32

    init(label: String, fd: Int32 = 2, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.fd = fd
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        Self.emit(fd: fd, line: format(event, timestamp: Self.timestamp()))
    }

    /// One log line, newline included (`StreamLogHandler`'s layout: metadata sorted by key), as bytes in
    /// one buffer (appending to a `String` piece by piece cost four times as much).
    func format(_ event: LogEvent, timestamp: String) -> [UInt8] {
        let message = event.message.description
        var line: [UInt8] = []
        line.reserveCapacity(timestamp.utf8.count + label.utf8.count + message.utf8.count + 64)
        line.append(contentsOf: timestamp.utf8)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: event.level.rawValue.utf8)
        if !label.isEmpty {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: label.utf8)
        }
        line.append(UInt8(ascii: ":"))
        if let pretty = effectiveMetadata(event) {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: pretty.utf8)
        }
        line.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: "[")])
        line.append(contentsOf: event.source.utf8)
        line.append(contentsOf: [UInt8(ascii: "]"), UInt8(ascii: " ")])
        line.append(contentsOf: message.utf8)
        line.append(UInt8(ascii: "\n"))
        return line
    }

    private func effectiveMetadata(_ event: LogEvent) -> String? {
        let provided = metadataProvider?.get() ?? [:]
        let explicit = event.metadata ?? [:]
        guard !provided.isEmpty || !explicit.isEmpty || event.error != nil else { return prettyMetadata }
        var merged = metadata
        merged.merge(provided) { _, new in new }
        merged.merge(explicit) { _, new in new }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        return Self.prettify(merged)
    }

    private static func prettify(_ metadata: Logger.Metadata) -> String? {
        guard !metadata.isEmpty else { return nil }
        return metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    /// The local time as `%Y-%m-%dT%H:%M:%S%z`, formatted again only when the second changes.
    static func timestamp(now: time_t = time(nil)) -> String {
        cachedTime.withLock { cached in
            if cached.second == now { return cached.text }
            var seconds = now
            var parts = tm()
            var buffer = [CChar](repeating: 0, count: 64)
            guard localtime_r(&seconds, &parts) != nil,
                  strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts) > 0 else { return "<unknown>" }
            let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            cached = (now, text)
            return text
        }
    }

    private static let cachedTime = Mutex<(second: time_t, text: String)>((-1, ""))

    /// The whole line in as few `write(2)` calls as the kernel allows (one, in practice); nothing to do
    /// about an error: there is nowhere else to report it.
    private static func emit(fd: Int32, line: [UInt8]) {
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
