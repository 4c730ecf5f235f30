import DNSCore
import Foundation
import Testing

/// SPF at MAIL FROM, DKIM and DMARC after DATA, and the Authentication-Results field, on port 25,
/// with DNS answers from a fake resolver.
struct InboundChecksTests {
    static func resolver() -> StaticResolver {
        var dns = StaticResolver()
        dns.addTXT("remote.example", "v=spf1 ip4:192.0.2.1 -all")
        dns.addTXT("ok.example", "v=spf1 ip4:127.0.0.1 -all")
        dns.addTXT("_dmarc.strict.example", "v=DMARC1; p=reject")
        return dns
    }

    func send(_ server: TestServer, mailFrom: String, header: String) async throws -> [String] {
        let client = try await TestClient(port: server.ports[.mx]!)
        var replies: [String] = []
        _ = try await client.readLine()
        try await client.send(Array("HELO client.example\r\n".utf8))
        _ = try await client.readLine()
        try await client.send(Array("MAIL FROM:<\(mailFrom)>\r\n".utf8))
        let mail = try await client.readLine() ?? ""
        replies.append(mail)
        if mail.hasPrefix("250") {
            try await client.send(Array("RCPT TO:<dev@example.test>\r\nDATA\r\n".utf8))
            replies.append(try await client.readLine() ?? "")
            replies.append(try await client.readLine() ?? "")
            try await client.send(Array("\(header)Subject: t\r\n\r\nbody\r\n.\r\n".utf8))
            replies.append(try await client.readLine() ?? "")
        }
        await client.close()
        return replies
    }

    @Test func spfFailIsRefusedAtMailFrom() async throws {
        let server = try await TestServer(resolver: Self.resolver())
        let replies = try await send(server, mailFrom: "someone@remote.example", header: "From: someone@remote.example\r\n")
        #expect(replies.first?.hasPrefix("550 5.7.23 SPF check failed: 127.0.0.1 is not allowed to send mail for remote.example") == true,
                "\(replies)")
        await server.stop()
    }

    @Test func spfFailOnlyRecordedWhenConfigured() async throws {
        let server = try await TestServer(resolver: Self.resolver(), configure: { $0.checks.rejectSPFFail = false })
        let replies = try await send(server, mailFrom: "someone@remote.example", header: "From: someone@remote.example\r\n")
        #expect(replies.last?.hasPrefix("250 2.0.0") == true, "\(replies)")
        let deadline = ContinuousClock.now + .seconds(5)
        while server.maildirCount() == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let message = server.maildirMessages().first ?? ""
        #expect(message.contains("Received-SPF: fail"))
        #expect(message.contains("spf=fail smtp.mailfrom=someone@remote.example"))
        await server.stop()
    }

    @Test func passAddsAuthenticationResultsAndDropsForgedOnes() async throws {
        let server = try await TestServer(resolver: Self.resolver())
        let forged = "Authentication-Results: mx.example.test;\r\n\tdkim=pass header.d=bank.example\r\n"
            + "Authentication-Results: other.example; spf=pass\r\nFrom: a@ok.example\r\n"
        let replies = try await send(server, mailFrom: "a@ok.example", header: forged)
        #expect(replies.last?.hasPrefix("250 2.0.0") == true, "\(replies)")
        let deadline = ContinuousClock.now + .seconds(5)
        while server.maildirCount() == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let message = server.maildirMessages().first ?? ""
        let lines = message.components(separatedBy: "\r\n")
        // Our field comes first (after the delivery headers), then Received-SPF, then Received.
        #expect(lines[2] == "Authentication-Results: mx.example.test;", "\(lines.prefix(8))")
        #expect(message.contains("spf=pass smtp.mailfrom=a@ok.example"))
        #expect(message.contains("dkim=none"))
        #expect(message.contains("Received-SPF: pass"))
        #expect(!message.contains("header.d=bank.example"))              // the forged field is gone
        #expect(message.contains("Authentication-Results: other.example; spf=pass"))   // others' fields stay
        await server.stop()
    }

    @Test func dmarcRejectPolicyIsEnforced() async throws {
        let server = try await TestServer(resolver: Self.resolver())
        // SPF passes for ok.example, but the From domain strict.example is not aligned and has p=reject.
        let replies = try await send(server, mailFrom: "a@ok.example", header: "From: ceo@strict.example\r\n")
        #expect(replies.last?.hasPrefix("550 5.7.1 Message rejected by the DMARC policy of strict.example") == true,
                "\(replies)")
        #expect(server.maildirCount() == 0)
        await server.stop()
    }

    @Test func dmarcRejectNotEnforcedIsReportedAsDispositionNone() async throws {
        // With reject_dmarc_failures off the message is delivered, and the header says what was applied:
        // dis=none, not the policy's reject (the `? .none : nil` that read as nil).
        let server = try await TestServer(resolver: Self.resolver(), configure: { $0.checks.rejectDMARCFailures = false })
        let replies = try await send(server, mailFrom: "a@ok.example", header: "From: ceo@strict.example\r\n")
        #expect(replies.last?.hasPrefix("250 2.0.0") == true, "\(replies)")
        let deadline = ContinuousClock.now + .seconds(5)
        while server.maildirCount() == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let message = server.maildirMessages().first ?? ""
        #expect(message.contains("dmarc=fail (p=reject dis=none) header.from=strict.example"), "\(message)")
        await server.stop()
    }
}
