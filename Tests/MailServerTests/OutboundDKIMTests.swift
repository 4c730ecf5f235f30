import DKIM
import Foundation
import Testing

/// Mail submitted by a local user is DKIM-signed with every key of the From domain; mail that
/// arrives on port 25 is not.
struct OutboundDKIMTests {
    /// Also with a broken key file beside the good one (a half-copied key): the good one still signs.
    @Test(arguments: [false, true])
    func submittedMailIsSignedAndVerifies(brokenKeyBeside: Bool) async throws {
        let key = try DKIMSigningKey.generate(.ed25519, domain: "example.test", selector: "apus-ed25519")
        let server = try await TestServer(prepare: { config in
            let path = try DKIMKeyStore.write(key, configDirectory: config)
            if brokenKeyBeside {
                try "-----BEGIN PRIVATE KEY-----\nnot a key\n".write(
                    toFile: (path as NSString).deletingLastPathComponent + "/half-copied.pem", atomically: true, encoding: .utf8)
            }
        })
        let client = try await TestClient(port: server.ports[.submissions]!, implicitTLS: true)
        _ = try await client.readLine()
        try await client.send(Array(("EHLO c\r\nAUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAc2VjcmV0\r\n"
            + "MAIL FROM:<dev@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n").utf8))
        while let line = try await client.readLine(), !line.hasPrefix("354") {
            #expect(!line.hasPrefix("5"), "unexpected \(line)")
        }
        try await client.send(Array(("From: Dev <dev@example.test>\r\nTo: bob@example.test\r\n"
            + "Subject: signed\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n\r\nhello\r\n.\r\n").utf8))
        #expect(try await client.readLine()?.hasPrefix("250 2.0.0") == true)
        await client.close()

        let deadline = ContinuousClock.now + .seconds(5)
        while server.maildirCount("bob") == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let delivered = try #require(server.maildirMessages("bob").first)
        #expect(delivered.contains("DKIM-Signature: v=1; a=ed25519-sha256"))
        let txt = key.txtRecord
        let verifier = DKIMVerifier(lookup: staticKeyLookup(["apus-ed25519._domainkey.example.test": [txt]]))
        let results = await verifier.verify(message: Array(delivered.utf8), now: Int64(Date().timeIntervalSince1970))
        #expect(results.map(\.status) == [.pass], "\(results)")
        await server.stop()
    }

    @Test func mailFromOutsideIsNotSigned() async throws {
        let key = try DKIMSigningKey.generate(.ed25519, domain: "example.test", selector: "apus-ed25519")
        let server = try await TestServer(prepare: { config in
            _ = try DKIMKeyStore.write(key, configDirectory: config)
        })
        let client = try await TestClient(port: server.ports[.mx]!)
        _ = try await client.readLine()
        try await client.send(Array("HELO c\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<dev@example.test>\r\nDATA\r\n".utf8))
        for _ in 0..<4 { _ = try await client.readLine() }
        try await client.send(Array("From: dev@example.test\r\nSubject: forged\r\n\r\nx\r\n.\r\n".utf8))
        #expect(try await client.readLine()?.hasPrefix("250 2.0.0") == true)
        await client.close()
        let deadline = ContinuousClock.now + .seconds(5)
        while server.maildirCount() == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(server.maildirMessages().first?.contains("DKIM-Signature") == false)
        await server.stop()
    }
}
