import Config
import Directory
import Foundation
import MailQueue
import NIOCore
import Testing

/// The crash test: `apus serve` (the real binary) is SIGKILLed while it delivers N queued
/// messages, then started again. Every message must arrive at least once and the queue must end empty;
/// duplicates (a crash between the remote 250 and the state write) are counted and printed.
@Suite struct CrashTests {
    @Test func sigkillDuringDeliveryLosesNothing() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ServerDeliveryTests.apusBinary),
                     "\(ServerDeliveryTests.apusBinary) is missing: run swift build --build-tests first")
        let n = 300
        let dnsmasq = try await Dnsmasq.start(["--mx-host=multi.test,mx1.multi.test,10", "--host-record=mx1.multi.test,127.0.0.2"])
        defer { dnsmasq.stop() }
        let mx = try await FakeMX.start(ip: "127.0.0.2", port: 0)
        let root = NSTemporaryDirectory() + "apus-crash-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let configDir = try ServerDeliveryTests.writeConfig(root: root, dns: dnsmasq, mxPort: mx.port)

        let spool = try FileSpool(directory: root + "/data/queue")
        for i in 0..<n {
            let text = "Subject: crash-\(i)\r\n\r\nmessage \(i)\r\n"
            let meta = QueuedMessage(id: QueuedMessage.newID(), mailFrom: "dev@local.test",
                                     recipients: [.init(address: "r\(i % 7)@multi.test", original: "r\(i % 7)@multi.test")],
                                     receivedAt: Date(), clientAddress: "127.0.0.1", clientName: "localhost",
                                     authenticatedUser: "dev", smtputf8: false, size: text.utf8.count)
            try await spool.store(meta, message: ByteBuffer(string: text))
        }

        func serve() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ServerDeliveryTests.apusBinary)
            process.arguments = ["serve", "--config", configDir, "--log-level", "critical"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        func subjects() -> [String] {
            mx.received.compactMap { r in r.data.split(separator: "\r\n").first { $0.hasPrefix("Subject: ") }.map(String.init) }
        }

        let first = try serve()
        #expect(await DeliveryHarness.waitUntil(30) { mx.received.count >= n / 5 })
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let atKill = mx.received.count
        let left = try await spool.list().count

        let second = try serve()
        let done = await DeliveryHarness.waitUntil(60) {
            let queued = (try? await spool.list())?.count ?? -1
            return queued == 0 && Set(subjects()).count == n
        }
        kill(second.processIdentifier, SIGKILL)
        second.waitUntilExit()

        let all = subjects()
        let unique = Set(all)
        #expect(done)
        #expect(unique.count == n)
        #expect(try await spool.list().isEmpty)
        print("crash test: \(n) messages, SIGKILL after \(atKill) received with \(left) still queued; "
              + "after restart \(all.count) received, \(unique.count) distinct, \(all.count - unique.count) duplicate(s)")
        await mx.stop()
    }
}
