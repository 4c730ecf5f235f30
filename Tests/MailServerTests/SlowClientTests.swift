import Foundation
import SMTPProtocol
import Testing

/// Slowloris defences: a client that trickles bytes cannot hold a connection past its deadline.
struct SlowClientTests {
    /// Sends `bytes` one at a time, `every` apart, until the server closes; returns when it stopped.
    static func dribble(_ bytes: [UInt8], to client: TestClient, every: Duration) async throws -> ContinuousClock.Instant {
        for byte in bytes {
            try? await client.send([byte])
            try await Task.sleep(for: every)
            if try await client.isClosed(within: .zero) { break }
        }
        return ContinuousClock.now
    }

    @Test func aCommandLineDribbledByteByByteStillMeetsItsDeadline() async throws {
        let server = try await TestServer(configure: { $0.limits.commandTimeout = .seconds(1) })
        let client = try await TestClient(port: server.ports[.mx]!)
        #expect(try await client.readLine()?.hasPrefix("220 ") == true)
        let start = ContinuousClock.now
        // One byte every 200 ms: an idle timer restarted by every byte would never fire.
        async let sent = Self.dribble(Array("EHLO a-very-long-client-name.example\r\n".utf8), to: client, every: .milliseconds(200))
        #expect(try await client.readLine(timeout: .seconds(5)) == "421 4.4.2 mx.example.test timeout exceeded, closing connection")
        #expect(try await client.isClosed())
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .milliseconds(2500), "closed after \(elapsed)")
        _ = try await sent
        await server.stop()
    }

    @Test func completeCommandsEachGetAFreshDeadline() async throws {
        let server = try await TestServer(configure: { $0.limits.commandTimeout = .seconds(1) })
        let client = try await TestClient(port: server.ports[.mx]!)
        #expect(try await client.readLine()?.hasPrefix("220 ") == true)
        for _ in 0..<3 {   // 3 × 600 ms > 1 s in total, each line within its own second
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await client.command("NOOP") == "250 2.0.0 Ok")
        }
        await client.close()
        await server.stop()
    }

    @Test func messageDataBelowTheMinimumRateIsCutOff() async throws {
        let server = try await TestServer(configure: {
            $0.limits.dataTimeout = .seconds(1)
            $0.limits.minDataRate = 100
        })
        let client = try await TestClient(port: server.ports[.mx]!)
        _ = try await client.readLine()
        #expect(try await client.command("HELO c") .hasPrefix("250"))
        #expect(try await client.command("MAIL FROM:<a@remote.example>").hasPrefix("250"))
        #expect(try await client.command("RCPT TO:<dev@example.test>").hasPrefix("250"))
        #expect(try await client.command("DATA").hasPrefix("354"))
        let start = ContinuousClock.now
        // 5 bytes a second against a minimum of 100: each byte earns 10 ms and costs 200 ms.
        async let sent = Self.dribble(Array(repeating: UInt8(ascii: "x"), count: 40), to: client, every: .milliseconds(200))
        #expect(try await client.readLine(timeout: .seconds(6))?.hasPrefix("421 4.4.2") == true)
        #expect(try await client.isClosed())
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .milliseconds(2000), "closed after \(elapsed)")
        _ = try await sent
        #expect(server.queueCount() == 0)
        await server.stop()
    }

    @Test func messageDataAtAFairRateIsAccepted() async throws {
        let server = try await TestServer(configure: {
            $0.limits.dataTimeout = .seconds(1)
            $0.limits.minDataRate = 100
        })
        let client = try await TestClient(port: server.ports[.mx]!)
        _ = try await client.readLine()
        #expect(try await client.command("HELO c").hasPrefix("250"))
        #expect(try await client.command("MAIL FROM:<a@remote.example>").hasPrefix("250"))
        #expect(try await client.command("RCPT TO:<dev@example.test>").hasPrefix("250"))
        #expect(try await client.command("DATA").hasPrefix("354"))
        // 2 s in total, longer than data_timeout, but 500 bytes every 200 ms is well above 100 bytes/s.
        try await client.send(Array("Subject: slow\r\n\r\n".utf8))
        for _ in 0..<10 {
            try await client.send(Array(repeating: UInt8(ascii: "y"), count: 498) + [13, 10])
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await client.command(".").hasPrefix("250 2.0.0"))
        await client.close()
        await server.stop()
    }
}
