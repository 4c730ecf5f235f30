import Foundation
import Testing

/// `MailServer.services` in one ServiceGroup: a graceful shutdown stops the listeners first (an open
/// session gets 421 and is closed), then the admin listener, the watcher, the reloader, and the queue
/// runner last.
@Suite struct ShutdownOrderTests {
    @Test func listenersFirstRunnerLast() async throws {
        let log = CapturedLog()
        let server = try await TestServer(log: log)
        let client = try await TestClient(port: server.ports[.mx]!)
        #expect(try await client.readLine()?.hasPrefix("220 ") == true)
        #expect(try await client.command("EHLO client.test").hasPrefix("250"))

        await server.stop()
        let rest = String(decoding: try await client.readUntilClosed(), as: UTF8.self)
        #expect(rest.hasPrefix("421 4.3.2"), "\(rest)")
        let messages = log.entries.map(\.message)
        let closing = try #require(messages.firstIndex { $0.hasPrefix("shutting down: closing listeners") }, "\(messages)")
        let runner = try #require(messages.firstIndex { $0 == "queue runner stopped" }, "\(messages)")
        let stopped = try #require(messages.lastIndex { $0 == "stopped" }, "\(messages)")
        #expect(closing < runner && runner < stopped)
        await client.close()
    }
}
