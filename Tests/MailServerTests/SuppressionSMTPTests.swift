import Config
import Foundation
import MailServer
import MailStore
import Testing

/// `[suppression] smtp = true`: an authenticated submission to an address on the suppression list of the
/// user's domain is refused at RCPT with 550 5.7.1 and a text saying how to remove it; other recipients and
/// the default (`smtp = false`) are not affected.
struct SuppressionSMTPTests {
    static func session(_ server: TestServer) async throws -> TestClient {
        let client = try await TestClient(port: server.ports[.submissions]!, implicitTLS: true)
        _ = try await client.readLine()
        try await client.send(Array("EHLO c\r\n".utf8))
        while let line = try await client.readLine(), line.hasPrefix("250-") {}
        for (send, expect) in [("AUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAc2VjcmV0", "235 "), ("MAIL FROM:<dev@example.test>", "250 ")] {
            try await client.send(Array((send + "\r\n").utf8))
            #expect(try await client.readLine()?.hasPrefix(expect) == true, "after \(send)")
        }
        return client
    }

    @Test(arguments: [true, false])
    func suppressedRecipientIsRefusedOnlyWhenAsked(smtp: Bool) async throws {
        let server = try await TestServer(configure: { $0.suppression.smtp = smtp })
        do {
            try await server.server.eventStore.suppress(
                Suppression(domain: "example.test", address: "Gone@Elsewhere.test", reason: .hardBounce, created: Date()))
            let client = try await Self.session(server)
            try await client.send(Array("RCPT TO:<gone@elsewhere.test>\r\n".utf8))
            let reply = try await client.readLine() ?? ""
            if smtp {
                #expect(reply.hasPrefix("550 5.7.1 <gone@elsewhere.test> is on the suppression list of example.test"), "\(reply)")
                #expect(reply.contains("apus suppression remove gone@elsewhere.test --domain example.test"))
            } else {
                #expect(reply.hasPrefix("250 "), "\(reply)")
            }
            try await client.send(Array("RCPT TO:<fine@elsewhere.test>\r\n".utf8))
            #expect(try await client.readLine()?.hasPrefix("250 ") == true)
            await client.close()
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
