import Config
import Directory
import Foundation
import MailQueue
import MailServer
import Testing

/// Aliases, catch-all, forwarding with SRS and loop refusal through a live server (issue 5).
@Suite struct AliasServerTests {
    /// A server whose example.test has this aliases file (users dev and bob).
    static func server(aliases: String) async throws -> TestServer {
        // Remote recipients stay in the queue, where the tests look at them.
        try await TestServer(maxRecipients: 20, configure: { $0.delivery.holdRemote = true }, prepare: { config in
            try aliases.write(toFile: config + "/domains/example.test/aliases", atomically: true, encoding: .utf8)
        })
    }

    struct Transaction {
        var rcptReplies: [String] = []
        var finalReply: String?
        var queueID: String? {
            guard let reply = finalReply, reply.hasPrefix("250 2.0.0 Ok: queued as ") else { return nil }
            return String(reply.dropFirst("250 2.0.0 Ok: queued as ".count))
        }
    }

    /// One message on port 25. DATA is sent only when a recipient was accepted.
    static func send(_ server: TestServer, from: String, to recipients: [String],
                     message: String = "Subject: test\r\n\r\nhello\r\n") async throws -> Transaction {
        let client = try await TestClient(port: server.ports[.mx]!)
        defer { Task { await client.close() } }
        _ = try await client.readLine()
        try await client.send(Array("HELO client.test\r\nMAIL FROM:<\(from)>\r\n".utf8))
        _ = try await client.readLine()
        #expect(try await client.readLine()?.hasPrefix("250 ") == true)
        var result = Transaction()
        for rcpt in recipients {
            try await client.send(Array("RCPT TO:<\(rcpt)>\r\n".utf8))
            result.rcptReplies.append(try await client.readLine() ?? "closed")
        }
        guard result.rcptReplies.contains(where: { $0.hasPrefix("250") }) else { return result }
        try await client.send(Array("DATA\r\n".utf8))
        #expect(try await client.readLine()?.hasPrefix("354") == true)
        try await client.send(Array((message + ".\r\n").utf8))
        result.finalReply = try await client.readLine()
        return result
    }

    /// Waits until a local user's Maildir holds `count` messages (delivery runs right after the 250).
    static func waitForMaildir(_ server: TestServer, _ user: String, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while server.maildirCount(user) < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(server.maildirCount(user) == count, "\(user)'s Maildir")
    }

    /// The queue entry of a message that is still queued (only remote recipients, held by the test server).
    static func queued(_ server: TestServer, _ id: String?) async throws -> QueuedMessage {
        guard let id else { throw TranscriptError("no queue id") }
        return try await FileSpool(directory: server.dataDirectory + "/queue").load(id: id).0
    }

    static func srs(_ server: TestServer) throws -> SRS {
        SRS(secret: try #require(try SRSSecret.load(path: SRSSecret.path(dataDirectory: server.dataDirectory))))
    }

    @Test func catchAllDeliversToItsTarget() async throws {
        let server = try await Self.server(aliases: "*: dev\n")
        let sent = try await Self.send(server, from: "someone@sender.test", to: ["random@example.test"])
        #expect(sent.rcptReplies == ["250 2.1.5 Recipient ok"])
        #expect(sent.queueID != nil)
        try await Self.waitForMaildir(server, "dev", count: 1)
        #expect(server.maildirCount("dev") == 1)
        #expect(server.maildirCount("bob") == 0)
        #expect(server.maildirMessages("dev").first?.contains("Subject: test") == true)
        await server.stop()
    }

    @Test func userWithSuffixBeatsTheCatchAll() async throws {
        let server = try await Self.server(aliases: "*: dev\n")
        let sent = try await Self.send(server, from: "someone@sender.test", to: ["bob+tag@example.test"])
        #expect(sent.rcptReplies == ["250 2.1.5 Recipient ok"])
        try await Self.waitForMaildir(server, "bob", count: 1)
        #expect(server.maildirCount("bob") == 1)
        #expect(server.maildirCount("dev") == 0)
        await server.stop()
    }

    @Test func unknownAddressRefusedWithoutCatchAll() async throws {
        let server = try await Self.server(aliases: "info: bob\n")
        let sent = try await Self.send(server, from: "someone@sender.test",
                                       to: ["random@example.test", "info+x@example.test", "postmaster@example.test"])
        #expect(sent.rcptReplies == ["550 5.1.1 <random@example.test>: no such user here",
                                     "250 2.1.5 Recipient ok", "250 2.1.5 Recipient ok"])
        // Local recipients are delivered at once (the queue file is gone by now): look in the Maildirs.
        try await Self.waitForMaildir(server, "bob", count: 1)
        try await Self.waitForMaildir(server, "postmaster", count: 1)
        #expect(server.maildirMessages("bob").first?.contains("Delivered-To: bob@example.test\r\n") == true)
        await server.stop()
    }

    @Test func forwardGetsAnSRSSender() async throws {
        let server = try await Self.server(aliases: "*: i\ni: someone@remote.test, dev\n")
        let sent = try await Self.send(server, from: "bob@sender.test", to: ["random@example.test"])
        #expect(sent.rcptReplies == ["250 2.1.5 Recipient ok"])
        let meta = try await Self.queued(server, sent.queueID)
        #expect(meta.mailFrom == "bob@sender.test")
        let forward = try #require(meta.recipients.first { $0.address == "someone@remote.test" })
        #expect(forward.original == "random@example.test")
        let srsSender = try #require(forward.mailFrom)
        #expect(srsSender.hasPrefix("SRS0="))
        #expect(srsSender.hasSuffix("@example.test"))
        let local = String(srsSender.prefix { $0 != "@" })
        #expect(try Self.srs(server).reverse(localPart: local) == "bob@sender.test")
        // The local copy keeps the original sender.
        let copy = try #require(meta.recipients.first { $0.address == "dev@example.test" })
        #expect(copy.mailFrom == nil)
        await server.stop()
    }

    @Test func localAndNullSendersAreNotRewritten() async throws {
        let server = try await Self.server(aliases: "fwd: someone@remote.test\n")
        for sender in ["dev@example.test", ""] {
            let sent = try await Self.send(server, from: sender, to: ["fwd@example.test"])
            let meta = try await Self.queued(server, sent.queueID)
            #expect(meta.mailFrom == sender)
            #expect(meta.recipients.map(\.address) == ["someone@remote.test"])
            #expect(meta.recipients.first?.mailFrom == nil)
        }
        await server.stop()
    }

    @Test func bounceToSRSAddressGoesToTheOriginalSender() async throws {
        let server = try await Self.server(aliases: "*: dev\n")
        let address = try Self.srs(server).forward(localPart: "bob", domain: "sender.test", aliasDomain: "example.test")
        let sent = try await Self.send(server, from: "", to: [address])
        #expect(sent.rcptReplies == ["250 2.1.5 Recipient ok"])
        let meta = try await Self.queued(server, sent.queueID)
        #expect(meta.mailFrom == "")
        #expect(meta.recipients.map(\.address) == ["bob@sender.test"])
        #expect(meta.recipients.map(\.original) == [address])
        #expect(meta.recipients.first?.mailFrom == nil)

        // Altered, expired, or not ours: refused at RCPT (and never given to the catch-all).
        let expired = try Self.srs(server).forward(localPart: "bob", domain: "sender.test", aliasDomain: "example.test",
                                                   now: Date().addingTimeInterval(-30 * 86_400))
        let forged = "SRS0=AAAA=AA=sender.test=bob@example.test"
        let refused = try await Self.send(server, from: "", to: [expired, forged])
        #expect(refused.rcptReplies == ["550 5.1.1 <\(expired)>: invalid or expired return address (SRS)",
                                        "550 5.1.1 <\(forged)>: invalid or expired return address (SRS)"])
        await server.stop()
    }

    @Test func duplicateFinalRecipientsMerged() async throws {
        let server = try await Self.server(aliases: "*: dev\nteam: dev, bob, DEV\n")
        let sent = try await Self.send(server, from: "a@sender.test",
                                       to: ["dev@example.test", "random@example.test", "team@example.test"])
        #expect(sent.queueID != nil)
        try await Self.waitForMaildir(server, "dev", count: 1)
        try await Self.waitForMaildir(server, "bob", count: 1)
        try await Task.sleep(for: .milliseconds(200))
        #expect(server.maildirCount("dev") == 1)   // three paths to dev, one copy
        #expect(server.maildirCount("bob") == 1)
        await server.stop()
    }

    @Test func aliasLoopIsATemporaryFailure() async throws {
        let server = try await Self.server(aliases: "a: b\nb: a\n")
        let sent = try await Self.send(server, from: "a@sender.test", to: ["a@example.test"])
        #expect(sent.rcptReplies == ["451 4.3.5 This address cannot be resolved now (alias configuration error); try again later"])
        await server.stop()
    }

    @Test(arguments: [(50, true), (51, false)])
    func tooManyReceivedHeaders(count: Int, accepted: Bool) async throws {
        let server = try await Self.server(aliases: "")
        var message = ""
        for i in 0..<count { message += "Received: from hop\(i).test\r\n\tby hop\(i + 1).test; Mon, 30 Nov 2026 10:00:00 +0000\r\n" }
        message += "Subject: loop\r\n\r\nreceived: not a header\r\n"
        let sent = try await Self.send(server, from: "a@sender.test", to: ["dev@example.test"], message: message)
        if accepted {
            #expect(sent.queueID != nil)
        } else {
            #expect(sent.finalReply == "554 5.4.6 Too many Received headers: mail loop?")
            #expect(server.queueCount() == 0)
        }
        await server.stop()
    }

    @Test func reloadReadsAliasesAndKeepsTheOldStateOnError() async throws {
        let server = try await Self.server(aliases: "info: bob\n")
        let path = server.configDirectory + "/domains/example.test/aliases"
        try "info: bob\nsales dev\n".write(toFile: path, atomically: true, encoding: .utf8)
        server.server.reload()     // logged: aliases:2: expected `name: target, target…`
        var sent = try await Self.send(server, from: "a@sender.test", to: ["info@example.test", "sales@example.test"])
        #expect(sent.rcptReplies == ["250 2.1.5 Recipient ok", "550 5.1.1 <sales@example.test>: no such user here"])
        try "sales: dev\n".write(toFile: path, atomically: true, encoding: .utf8)
        server.server.reload()
        sent = try await Self.send(server, from: "a@sender.test", to: ["info@example.test", "sales@example.test"])
        #expect(sent.rcptReplies == ["550 5.1.1 <info@example.test>: no such user here", "250 2.1.5 Recipient ok"])
        await server.stop()
    }

    /// DESIGN.md §4: an authenticated user may send as an alias that reaches them, but not through the catch-all.
    @Test func authenticatedUserMaySendAsTheirAliases() async throws {
        let server = try await Self.server(aliases: "info: dev, bob\nsales: bob\n*: dev\n")
        let client = try await TestClient(port: server.ports[.submissions]!, implicitTLS: true)
        _ = try await client.readLine()
        try await client.send(Array("EHLO c\r\n".utf8))
        while let line = try await client.readLine(), line.hasPrefix("250-") {}
        try await client.send(Array("AUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAc2VjcmV0\r\n".utf8))
        #expect(try await client.readLine() == "235 2.7.0 Authentication successful")
        for (sender, reply) in [
            ("info@example.test", "250 2.1.0 Sender ok"),
            ("dev+list@example.test", "250 2.1.0 Sender ok"),
            ("sales@example.test", "550 5.7.1 Sender <sales@example.test> is not owned by the authenticated user"),
            ("random@example.test", "550 5.7.1 Sender <random@example.test> is not owned by the authenticated user"),
        ] {
            try await client.send(Array("MAIL FROM:<\(sender)>\r\n".utf8))
            #expect(try await client.readLine() == reply)
            try await client.send(Array("RSET\r\n".utf8))
            _ = try await client.readLine()
        }
        await client.close()
        await server.stop()
    }

    @Test func parseErrorStopsTheServerAtStart() async throws {
        do {
            let server = try await Self.server(aliases: "ok: dev\n\nbroken: a,,b\n")
            await server.stop()
            Issue.record("the server started")
        } catch {
            #expect("\(error)".hasSuffix("/domains/example.test/aliases:3: alias \"broken\": empty target (two commas in a row, or a comma at an end)"))
        }
    }
}
