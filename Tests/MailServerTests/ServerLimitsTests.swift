import Certificates
import Config
import Foundation
import NIOSSL
import SMTPProtocol
import Testing

/// Limits and listener behaviour that transcripts cannot express alone.
struct ServerLimitsTests {
    @Test func connectionsPerAddressAreLimited() async throws {
        let server = try await TestServer(configure: { $0.limits.maxConnectionsPerIP = 2 })
        let a = try await TestClient(port: server.ports[.mx]!)
        let b = try await TestClient(port: server.ports[.mx]!)
        #expect(try await a.readLine()?.hasPrefix("220 ") == true)
        #expect(try await b.readLine()?.hasPrefix("220 ") == true)
        let c = try await TestClient(port: server.ports[.mx]!)
        #expect(try await c.readLine() == "421 4.7.0 mx.example.test too many connections, try again later")
        #expect(try await c.isClosed())
        // When one closes, a new connection is accepted again.
        try await a.send(Array("QUIT\r\n".utf8))
        _ = try await a.readLine()
        #expect(try await a.isClosed())
        try await Task.sleep(for: .milliseconds(100))
        let d = try await TestClient(port: server.ports[.mx]!)
        #expect(try await d.readLine()?.hasPrefix("220 ") == true)
        for client in [b, c, d] { await client.close() }
        await server.stop()
    }

    @Test func idleSessionTimesOut() async throws {
        let server = try await TestServer(configure: { $0.limits.commandTimeout = .seconds(1) })
        let client = try await TestClient(port: server.ports[.mx]!)
        #expect(try await client.readLine()?.hasPrefix("220 ") == true)
        #expect(try await client.readLine() == "421 4.4.2 mx.example.test timeout exceeded, closing connection")
        #expect(try await client.isClosed())
        await server.stop()
    }

    @Test func authFailuresAreLimitedPerAddress() async throws {
        let server = try await TestServer(configure: { $0.limits.maxAuthFailures = 2 })
        let client = try await TestClient(port: server.ports[.submissions]!, implicitTLS: true)
        _ = try await client.readLine()
        try await client.send(Array("EHLO c\r\n".utf8))
        while let line = try await client.readLine(), line.hasPrefix("250-") {}
        let wrong = Array("AUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAd3Jvbmc=\r\n".utf8)
        try await client.send(wrong)
        #expect(try await client.readLine() == "535 5.7.8 Authentication credentials invalid")
        try await client.send(wrong)
        #expect(try await client.readLine() == "535 5.7.8 Authentication credentials invalid")
        // Now even the right password is refused from this address for the window.
        try await client.send(Array("AUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAc2VjcmV0\r\n".utf8))
        #expect(try await client.readLine() == "454 4.7.0 Too many failed authentications from your address; try again later")
        await client.close()
        await server.stop()
    }

    @Test func listensOnIPv6() async throws {
        let server = try await TestServer(host: "::1")
        let client = try await TestClient(port: server.ports[.mx]!, host: "::1")
        #expect(try await client.readLine() == "220 mx.example.test ESMTP Apus ready")
        try await client.send(Array("HELO v6\r\nMAIL FROM:<>\r\nRCPT TO:<dev@example.test>\r\nDATA\r\n".utf8))
        #expect(try await client.readLine()?.hasPrefix("250 ") == true)
        #expect(try await client.readLine() == "250 2.1.0 Sender ok")
        #expect(try await client.readLine() == "250 2.1.5 Recipient ok")
        #expect(try await client.readLine()?.hasPrefix("354") == true)
        try await client.send(Array("Subject: v6\r\n\r\nhi\r\n.\r\n".utf8))
        #expect(try await client.readLine()?.hasPrefix("250 2.0.0 Ok: queued as") == true)
        let deadline = ContinuousClock.now + .seconds(5)
        while server.maildirCount() == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let message = server.maildirMessages().first ?? ""
        #expect(message.contains("Received: from v6 (unknown [IPv6:::1])"))
        #expect(!message.contains("dev@example.test>\r\n\tby"))   // no recipient in the Received header
        await client.close()
        await server.stop()
    }

    @Test func certificateIsChosenBySNI() async throws {
        let server = try await TestServer(prepare: { configDirectory in
            try SelfSignedCertificate.write(hostname: "mail.other.test", certsDirectory: configDirectory + "/certs")
        })
        for name in ["mail.other.test", "mx.example.test", "unknown.test"] {
            let client = try await TestClient(port: server.ports[.submissions]!, implicitTLS: true, serverName: name)
            #expect(try await client.readLine()?.hasPrefix("220 ") == true)
            let cert = try await client.peerCertificate()
            let expected = name == "mail.other.test" ? "mail.other.test" : "mx.example.test"   // fallback: the host name's
            #expect(cert?.description.contains("common_name=\(expected);") == true, "SNI \(name): got \(String(describing: cert))")
            await client.close()
        }
        await server.stop()
    }

    @Test func shutdownSays421ToOpenSessions() async throws {
        let server = try await TestServer()
        let client = try await TestClient(port: server.ports[.mx]!)
        #expect(try await client.readLine()?.hasPrefix("220 ") == true)
        try await client.send(Array("EHLO c\r\n".utf8))
        while let line = try await client.readLine(), line.hasPrefix("250-") {}
        await server.stop()
        #expect(try await client.readLine() == "421 4.3.2 mx.example.test shutting down, closing connection")
        #expect(try await client.isClosed())
    }

    @Test func fullQueueDiskRefusesWith452() async throws {
        // A high-water mark above any disk's free space: every message is refused, nothing is queued.
        let server = try await TestServer(configure: { $0.delivery.queueMinFreeBytes = Int.max / 4 })
        let client = try await TestClient(port: server.ports[.mx]!)
        _ = try await client.readLine()
        try await client.send(Array("HELO c\r\nMAIL FROM:<a@remote.example>\r\nRCPT TO:<dev@example.test>\r\nDATA\r\n".utf8))
        for _ in 0..<4 { _ = try await client.readLine() }
        try await client.send(Array("Subject: x\r\n\r\nx\r\n.\r\n".utf8))
        #expect(try await client.readLine() == "452 4.3.1 Insufficient system storage; try again later")
        try await client.send(Array("NOOP\r\n".utf8))
        #expect(try await client.readLine() == "250 2.0.0 Ok")
        #expect(server.queueCount() == 0)
        await client.close()
        await server.stop()
    }
}
