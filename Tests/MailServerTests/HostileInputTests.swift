import Foundation
import Testing

/// Hostile input that a transcript file cannot hold comfortably.
struct HostileInputTests {
    /// 10,000 RCPT commands pipelined in one write: every one is answered (5 accepted, the rest 452 4.5.3),
    /// in order, and the server stays responsive.
    @Test func tenThousandRecipientsAreAnsweredAndBounded() async throws {
        let server = try await TestServer()
        let client = try await TestClient(port: server.ports[.mx]!)
        _ = try await client.readLine()
        #expect(try await client.command("EHLO c").hasPrefix("250 "))
        var burst = "MAIL FROM:<a@remote.example>\r\n"
        for i in 0..<10_000 { burst += "RCPT TO:<dev+\(i)@example.test>\r\n" }
        let start = ContinuousClock.now
        try await client.send(Array(burst.utf8))
        #expect(try await client.readLine() == "250 2.1.0 Sender ok")
        var accepted = 0, refused = 0, other: [String] = []
        for _ in 0..<10_000 {
            guard let line = try await client.readLine(timeout: .seconds(30)) else { break }
            if line.hasPrefix("250 ") { accepted += 1 } else if line.hasPrefix("452 4.5.3") { refused += 1 } else { other.append(line) }
        }
        #expect(accepted == 5 && refused == 9_995 && other.isEmpty, "\(accepted) \(refused) \(other.prefix(3))")
        #expect(ContinuousClock.now - start < .seconds(30))
        #expect(try await client.command("RSET") == "250 2.0.0 Reset ok")
        let second = try await TestClient(port: server.ports[.mx]!)
        #expect(try await second.readLine()?.hasPrefix("220 ") == true)
        await client.close()
        await second.close()
        await server.stop()
    }
}
