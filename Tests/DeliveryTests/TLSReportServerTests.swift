import Config
import Delivery
import Foundation
import MailQueue
import MailServer
import MailStore
import NIOCore
import ServiceLifecycle
import Testing

/// `[delivery] tls_reports` in a whole `MailServer`: a delivery to an MX without STARTTLS is counted, and the
/// count reaches `apus.sqlite` at the graceful shutdown (long before the minute's flush); with the switch off
/// nothing is counted.
@Suite struct TLSReportServerTests {
    @Test(arguments: [true, false])
    func countsAreStoredAtShutdown(enabled: Bool) async throws {
        let dnsmasq = try await Dnsmasq.start(["--mx-host=counted.test,mx.counted.test,10", "--host-record=mx.counted.test,127.0.0.74"])
        defer { dnsmasq.stop() }
        let mx = try await FakeMX.start(ip: "127.0.0.74", port: 0)
        let root = NSTemporaryDirectory() + "apus-tlsrpt-server-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let configDir = try ServerDeliveryTests.writeConfig(root: root, dns: dnsmasq, mxPort: mx.port)
        var config = try ApusConfig.load(configDirectory: configDir)
        config.delivery.tlsReports = enabled
        try config.render().write(toFile: configDir + "/apus.toml", atomically: true, encoding: .utf8)

        let spool = try FileSpool(directory: root + "/data/queue")
        let meta = QueuedMessage(id: QueuedMessage.newID(), mailFrom: "dev@local.test",
                                 recipients: [.init(address: "x@counted.test", original: "x@counted.test")],
                                 receivedAt: Date(), clientAddress: "127.0.0.1", clientName: "localhost",
                                 authenticatedUser: "dev", smtputf8: false, size: 20)
        try await spool.store(meta, message: ByteBuffer(string: "Subject: counted\r\n\r\nx\r\n"))
        let server = try MailServer(config: try ApusConfig.load(configDirectory: configDir), configDirectory: configDir,
                                    logger: DeliveryHarness.logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: DeliveryHarness.logger))
        let task = Task { try await group.run() }
        _ = await server.boundAddresses()
        #expect(await DeliveryHarness.waitUntil(10) { mx.received.count == 1 })
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await mx.stop()

        let rows = try await SQLiteMailStore(path: root + "/data/apus.sqlite").tlsResults(through: TLSReportRecorder.day(Date()))
        if enabled {
            #expect(rows.count == 1, "\(rows)")
            #expect(rows.first?.policyDomain == "counted.test")
            #expect(rows.first?.policyType == "no-policy-found")
            #expect(rows.first?.resultType == "starttls-not-supported")
            #expect(rows.first?.receivingMX == "mx.counted.test")
            #expect(rows.first?.count == 1)
        } else {
            #expect(rows.isEmpty)
        }
    }
}
