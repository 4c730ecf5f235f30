import Config
import Foundation
import MailServer
import MailStore
import Testing

/// Reports that come back through port 25 (issue 13): an ARF complaint (Yahoo-style) at
/// `[suppression] complaints_address` and a Postfix-style DSN to the original sender suppress the recipients
/// they name, with the right reason and event; a message that is neither changes nothing.
struct InboundReportTests {
    static func fixture(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reports/\(name)")
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// Sends `message` on the MX listener; returns the reply to the final dot.
    static func deliver(_ server: TestServer, from: String, to: String, message: String) async throws -> String {
        let client = try await TestClient(port: server.ports[.mx]!)
        _ = try await client.readLine()
        try await client.send(Array("EHLO reporter.test\r\n".utf8))
        while let line = try await client.readLine(), line.hasPrefix("250-") {}
        for line in ["MAIL FROM:<\(from)>", "RCPT TO:<\(to)>", "DATA"] {
            try await client.send(Array((line + "\r\n").utf8))
            _ = try await client.readLine()
        }
        // Dot-stuffed, CRLF line ends.
        let body = message.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
        try await client.send(Array((body + "\r\n.\r\n").utf8))
        let reply = try await client.readLine() ?? ""
        await client.close()
        return reply
    }

    @Test func complaintAndBounceReportsSuppress() async throws {
        let server = try await TestServer(maxMessageBytes: 100_000, configure: {
            $0.suppression.complaintsAddress = "fbl@example.test"
            $0.checks.enabled = false
        }, prepare: { dir in
            try "fbl: dev\n".write(toFile: dir + "/domains/example.test/aliases", atomically: true, encoding: .utf8)
        })
        do {
            let store = server.server.eventStore
            let arf = try await Self.deliver(server, from: "feedbackloop@feedback.yahoo.example", to: "fbl@example.test",
                                             message: try Self.fixture("arf.eml"))
            #expect(arf.hasPrefix("250 "), "\(arf)")
            let complaint = try await store.suppression(domain: "example.test", address: "reader@yahoo.example")
            #expect(complaint?.reason == .complaint)
            let dsn = try await Self.deliver(server, from: "", to: "dev@example.test", message: try Self.fixture("dsn.eml"))
            #expect(dsn.hasPrefix("250 "), "\(dsn)")
            #expect(try await store.suppression(domain: "example.test", address: "gone@example.net")?.reason == .hardBounce)
            // The delayed recipient of the same report is not suppressed.
            #expect(try await store.suppression(domain: "example.test", address: "full@example.net") == nil)
            await server.server.flushEvents()
            let events = try await store.events(EventQuery(types: [.complained, .bounced]))
            #expect(events.map(\.event.type) == [.complained, .bounced])
            #expect(events.last?.event.detail["original_message_id"] == "abc123@mx.example.test")
            #expect(events.last?.event.detail["async"] == "true")
            // An ordinary message to the complaints address suppresses nothing.
            let plain = try await Self.deliver(server, from: "someone@other.example", to: "fbl@example.test",
                                               message: "Subject: hello\r\n\r\nnot a report")
            #expect(plain.hasPrefix("250 "))
            #expect(try await store.suppressions(domain: "example.test", after: nil, limit: 10).count == 2)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
