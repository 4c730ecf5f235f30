import Config
import Directory
import DNSResolver
import Foundation
import MailQueue
import MailServer
import NIOCore
import ServiceLifecycle
import Testing

/// The queue runner as `apus serve` wires it: a message queued before the start is delivered at start,
/// and `apus sendmail` (the real binary) queues a message that the running server sends at once.
@Suite struct ServerDeliveryTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static var apusBinary: String { packageRoot + "/.build/debug/apus" }

    /// A configuration for `apus serve` under `root`: local domain local.test with user dev, the MX
    /// listener on 127.0.0.1 (any port), DNS from `dns`, outbound SMTP to `mxPort`. Returns its directory.
    static func writeConfig(root: String, dns: Dnsmasq, mxPort: Int) throws -> String {
        let configDir = root + "/config"
        try FileManager.default.createDirectory(atPath: configDir + "/domains/local.test", withIntermediateDirectories: true)
        try "dev \(try PasswordHash.make(password: "x", logN: 10))\n"
            .write(toFile: configDir + "/domains/local.test/users", atomically: true, encoding: .utf8)
        var config = ApusConfig(hostname: "mx.local.test", dataDir: root + "/data")
        config.listen = .init(mx: [ListenAddress(host: "127.0.0.1", port: 0)], submission: [], submissions: [], admin: [])
        config.dns.servers = [try ListenAddress.parse(dns.address, defaultPort: 53)]
        config.delivery.smtpPort = mxPort
        try config.render().write(toFile: configDir + "/apus.toml", atomically: true, encoding: .utf8)
        return configDir
    }

    @Test func resumesAtStartAndPicksUpSendmail() async throws {
        let dnsmasq = try await Dnsmasq.start(["--mx-host=multi.test,mx1.multi.test,10", "--host-record=mx1.multi.test,127.0.0.2"])
        defer { dnsmasq.stop() }
        let mx = try await FakeMX.start(ip: "127.0.0.2", port: 0)
        let root = NSTemporaryDirectory() + "apus-serve-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let configDir = try ServerDeliveryTests.writeConfig(root: root, dns: dnsmasq, mxPort: mx.port)

        // Queued while the server is down.
        let spool = try FileSpool(directory: root + "/data/queue")
        let early = QueuedMessage(id: QueuedMessage.newID(), mailFrom: "dev@local.test",
                                  recipients: [.init(address: "early@multi.test", original: "early@multi.test")],
                                  receivedAt: Date(), clientAddress: "127.0.0.1", clientName: "localhost",
                                  authenticatedUser: "dev", smtputf8: false, size: 20)
        try await spool.store(early, message: ByteBuffer(string: "Subject: early\r\n\r\nx\r\n"))

        let server = try MailServer(config: try ApusConfig.load(configDirectory: configDir), configDirectory: configDir,
                                    logger: DeliveryHarness.logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: DeliveryHarness.logger))
        let task = Task { try await group.run() }
        _ = await server.boundAddresses()
        #expect(await DeliveryHarness.waitUntil(5) { mx.received.count == 1 })
        #expect(mx.received.first?.recipients == ["early@multi.test"])

        // `apus sendmail -t`, recipients from the header, Bcc removed.
        if FileManager.default.isExecutableFile(atPath: Self.apusBinary) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.apusBinary)
            process.arguments = ["sendmail", "--config", configDir, "-f", "dev@local.test", "-t", "-i"]
            let input = Pipe()
            process.standardInput = input
            try process.run()
            input.fileHandleForWriting.write(Data("To: Someone <ok@multi.test>\nBcc: hidden@multi.test\nSubject: cron\n\nbody\n".utf8))
            try input.fileHandleForWriting.close()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(await DeliveryHarness.waitUntil(5) { mx.received.count == 2 })
            let sent = try #require(mx.received.last)
            #expect(sent.mailFrom == "dev@local.test")
            #expect(Set(sent.recipients) == ["ok@multi.test", "hidden@multi.test"])
            #expect(sent.data.contains("Subject: cron\r\n"))
            #expect(!sent.data.contains("Bcc"))
            #expect(sent.data.contains("Message-ID: <"))
        }
        #expect(await DeliveryHarness.waitUntil(5) { (try? await spool.list())?.isEmpty == true })
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await mx.stop()
    }
}
