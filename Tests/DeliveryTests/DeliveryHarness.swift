import ConfigFiles
import Delivery
import DNSCore
import DNSResolver
import Foundation
import Logging
import MailQueue
import NIOCore
import NIOPosix
import SMTPTransport

/// A queue runner over a temporary data directory, delivering through a real `RemoteCourier` that asks
/// `dns` (a dnsmasq zone or a `StaticResolver`) and connects to `port` on 127.0.0.x. Local domain:
/// local.test (Maildir under `<root>/mail`).
final class DeliveryHarness: Sendable {
    let root: String
    let spool: FileSpool
    let runner: QueueRunner
    let courier: RemoteCourier
    let tlsLevels: TLSLevelStore
    let wake: AsyncStream<String>.Continuation
    let task: Task<Void, Never>

    static var logger: Logger {
        var logger = Logger(label: "delivery-test")
        logger.logLevel = ProcessInfo.processInfo.environment["APUS_TEST_LOG"] != nil ? .debug : .critical
        return logger
    }

    init(dns: any DNSResolving, port: Int, caFile: String = "",
         schedule: RetrySchedule = RetrySchedule(delays: [.milliseconds(300)], giveUpAfter: .seconds(3600)),
         timeouts: SMTPClientTimeouts = .all(.seconds(3)), reuseConnections: Bool = true, mtaSTSPort: Int? = nil,
         providers: [Provider] = [], pacing: (any ProviderPacing)? = nil,
         outbound: OutboundAddresses = OutboundAddresses(), dnssec: Bool = false,
         tlsReports: TLSReportRecorder? = nil) throws {
        root = NSTemporaryDirectory() + "apus-delivery-" + UUID().uuidString
        spool = try FileSpool(directory: root + "/queue")
        tlsLevels = TLSLevelStore(path: root + "/state/tls-levels.json")
        let stsCache = root + "/state/mta-sts"
        let mtaSTS = try mtaSTSPort.map {
            try MTASTSPolicyStore(dns: dns, cacheDirectory: stsCache, caFile: caFile, port: $0, timeout: .seconds(3),
                                  logger: Self.logger)
        }
        var courier = try RemoteCourier(hostname: "mx.local.test", port: port, dns: dns, tlsLevels: tlsLevels,
                                        caFile: caFile, timeouts: timeouts,
                                        pool: SMTPConnectionPool(maxIdle: reuseConnections ? .seconds(5) : .zero),
                                        mtaSTS: mtaSTS, providers: providers, pacing: pacing, outbound: outbound,
                                        dnssec: dnssec, logger: Self.logger)
        courier.tlsReports = tlsReports
        self.courier = courier
        try DurableFile.makeDirectories(root + "/state/retry")
        let couriers = CourierTable(maildir: MaildirCourier(mailRoot: root + "/mail", hostname: "mx.local.test", logger: Self.logger),
                                    command: CommandCourier(mda: nil, logger: Self.logger), remote: self.courier)
        runner = QueueRunner(settings: .init(hostname: "mx.local.test", schedule: schedule,
                                             triggerDirectory: root + "/state/retry", tick: .milliseconds(50)),
                             spool: spool, couriers: couriers, router: Router(isLocalDomain: { $0 == "local.test" }),
                             jitter: { 0 }, logger: Self.logger)
        let (stream, wake) = AsyncStream.makeStream(of: String.self)
        self.wake = wake
        let runner = self.runner
        task = Task { await runner.run(wakeups: stream) }
    }

    /// Queues a message and wakes the runner; returns its id.
    @discardableResult
    func enqueue(from: String, to: [String], subject: String = "test", body: String = "Hello.\r\n",
                 requireTLS: Bool = false, headers: String = "") async throws -> String {
        let text = "Received: from client.test (client.test [127.0.0.1])\r\n\tby mx.local.test (Apus); Mon, 30 Nov 2026 09:00:00 +0000\r\n"
            + headers + "From: <\(from)>\r\nTo: \(to.map { "<\($0)>" }.joined(separator: ", "))\r\nSubject: \(subject)\r\n"
            + "Message-ID: <\(UUID().uuidString)@local.test>\r\n\r\n\(body)"
        let id = QueuedMessage.newID()
        var meta = QueuedMessage(id: id, mailFrom: from, recipients: to.map { .init(address: $0, original: $0) },
                                 receivedAt: Date(), clientAddress: "127.0.0.1", clientName: "client.test",
                                 authenticatedUser: nil, smtputf8: false, size: text.utf8.count)
        if requireTLS { meta.requireTLS = true }
        try await spool.store(meta, message: ByteBuffer(string: text))
        wake.yield(id)
        return id
    }

    func meta(_ id: String) async -> QueuedMessage? { try? await spool.load(id: id).0 }

    func queueIDs() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/queue")) ?? [])
            .filter { $0.hasSuffix(".msg") }.map { String($0.dropLast(4)) }.sorted()
    }

    func maildir(_ user: String, domain: String = "local.test") -> [String] {
        let dir = "\(root)/mail/\(domain)/\(user)/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().compactMap { try? String(contentsOfFile: "\(dir)/\($0)", encoding: .utf8) }
    }

    func stop() async {
        wake.finish()
        task.cancel()
        await task.value
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Polls `condition` every 50 ms for up to `seconds`.
    static func waitUntil(_ seconds: Double = 10, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await condition()
    }
}

/// Parses a message with Python's email package and returns what the DSN tests check, as JSON.
enum PythonEmail {
    static let script = #"""
import email, json, sys
from email import policy
msg = email.message_from_bytes(sys.stdin.buffer.read())
out = {"content_type": msg.get_content_type(), "report_type": msg.get_param("report-type"),
       "from": msg["From"], "to": msg["To"], "subject": msg["Subject"], "auto_submitted": msg["Auto-Submitted"],
       "parts": [], "per_message": {}, "recipients": [], "text": "", "headers": ""}
for part in msg.get_payload():
    ct = part.get_content_type()
    out["parts"].append(ct)
    if ct == "text/plain":
        out["text"] = part.get_payload(decode=True).decode()
    elif ct == "message/delivery-status":
        blocks = part.get_payload()
        out["per_message"] = dict(blocks[0].items())
        out["recipients"] = [dict(b.items()) for b in blocks[1:]]
    elif ct == "text/rfc822-headers":
        out["headers"] = part.get_payload()
print(json.dumps(out))
"""#

    static func parse(_ message: String) throws -> [String: Any] {
        try run(script, on: message)
    }

    /// Runs the Python program `source` with `message` on its standard input; its standard output read as
    /// one JSON object.
    static func run(_ source: String, on message: String) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", source]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(message.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }
}
