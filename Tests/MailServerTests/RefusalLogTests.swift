import Foundation
import Logging
import Testing

/// Every refused MAIL, RCPT, DATA and AUTH is one log line naming the client, the envelope and the reply
/// (DESIGN §4); AUTH lines name the mechanism and the reason, never the password.
struct RefusalLogTests {
    static func lines(_ log: CapturedLog, containing text: String) -> [String] {
        log.entries.map(\.message).filter { $0.contains(text) }
    }

    @Test func refusedRecipientSenderAndDataAreLoggedOnceEach() async throws {
        let log = CapturedLog()
        let server = try await TestServer(maxMessageBytes: 100, log: log)
        let client = try await TestClient(port: server.ports[.mx]!)
        _ = try await client.readLine()
        _ = try await client.command("EHLO client.example")
        #expect(try await client.command("MAIL FROM:<a@remote.example> SIZE=5000").hasPrefix("552"))
        #expect(try await client.command("MAIL FROM:<a@remote.example>").hasPrefix("250"))
        #expect(try await client.command("RCPT TO:<nobody@example.test>").hasPrefix("550 5.1.1"))
        #expect(try await client.command("RCPT TO:<dev@example.test>").hasPrefix("250"))
        #expect(try await client.command("RCPT TO:<someone@elsewhere.example>").hasPrefix("5"))
        #expect(try await client.command("DATA").hasPrefix("354"))
        try await client.send(Array(("Subject: big\r\n\r\n" + String(repeating: "x", count: 300) + "\r\n.\r\n").utf8))
        #expect(try await client.readLine()?.hasPrefix("552 5.3.4") == true)
        await client.close()
        await server.stop()

        let refusals = Self.lines(log, containing: "refused ")
        #expect(refusals.count == 4, "\(refusals)")
        #expect(refusals.contains { $0.hasPrefix("refused MAIL from 127.0.0.1 helo=client.example from=<a@remote.example>: 552 5.3.4") }, "\(refusals)")
        #expect(refusals.contains { $0.hasPrefix("refused RCPT from 127.0.0.1 helo=client.example from=<a@remote.example> to=<nobody@example.test>: 550 5.1.1") }, "\(refusals)")
        #expect(refusals.contains { $0.hasPrefix("refused RCPT from 127.0.0.1 helo=client.example from=<a@remote.example> to=<dev@example.test> to=<someone@elsewhere.example>: 5") }, "\(refusals)")
        #expect(refusals.contains { $0.hasPrefix("refused DATA from 127.0.0.1 helo=client.example from=<a@remote.example> to=<dev@example.test>: 552 5.3.4") }, "\(refusals)")
    }

    @Test func authFailuresNameTheMechanismAndTheReasonButNotTheSecret() async throws {
        let log = CapturedLog()
        let server = try await TestServer(log: log)
        let client = try await TestClient(port: server.ports[.submissions]!, implicitTLS: true)
        _ = try await client.readLine()
        _ = try await client.command("EHLO client.example")
        // dev@example.test / wrong-pass-77 ; ghost@example.test / secret
        let wrong = Data("\0dev@example.test\0wrong-pass-77".utf8).base64EncodedString()
        #expect(try await client.command("AUTH PLAIN \(wrong)").hasPrefix("535 5.7.8"))
        #expect(try await client.command("AUTH LOGIN").hasPrefix("334"))
        #expect(try await client.command(Data("ghost@example.test".utf8).base64EncodedString()).hasPrefix("334"))
        #expect(try await client.command(Data("secret".utf8).base64EncodedString()).hasPrefix("535 5.7.8"))
        #expect(try await client.command("AUTH PLAIN !!!notbase64").hasPrefix("501"))
        await client.close()
        await server.stop()

        let all = log.entries.map(\.message)
        #expect(all.contains { $0.contains("AUTH PLAIN failed user=dev@example.test from 127.0.0.1: wrong password") }, "\(all)")
        #expect(all.contains { $0.contains("AUTH LOGIN failed user=ghost@example.test from 127.0.0.1: no such user ghost@example.test") }, "\(all)")
        #expect(all.contains { $0.hasPrefix("refused AUTH PLAIN from 127.0.0.1 helo=client.example: 501") }, "\(all)")
        #expect(!all.contains { $0.contains("wrong-pass-77") || $0.contains(wrong) }, "a secret reached the log")
        #expect(!all.contains { $0.hasSuffix(": failure") })
    }
}
