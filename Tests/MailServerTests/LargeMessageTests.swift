import Crypto
import DKIM
import DNSCore
import Foundation
import Testing

/// Messages past the spill threshold (512 KiB) go to disk as they arrive (docs/architecture.md "Large
/// messages"), over real TCP into a live server: delivered byte for byte (dot-stuffing undone), DKIM verified
/// on port 25 and signed on submission from the file, and no temp file left, even when the client drops
/// the connection mid-DATA. The 20 × 50 MB memory bound is `tests/memory-large.py`.
@Suite(.serialized)
struct LargeMessageTests {
    /// A message of about `bytes` bytes: many lines, a tenth starting with "." (stuffed on the wire).
    static func message(_ header: String, bytes: Int, seed: UInt8 = 0) -> [UInt8] {
        var out = Array(header.utf8) + Array("\r\n\r\n".utf8)
        var n = 0
        while out.count < bytes {
            let width = 40 + (n * 37) % 900
            var line = [UInt8](repeating: UInt8(ascii: "a") &+ UInt8(n % 26) &+ seed % 3, count: width)
            if n % 10 == 3 { line[0] = UInt8(ascii: ".") }
            if n % 7 == 0 { line[width / 2] = UInt8(ascii: " ") }
            out += line + [13, 10]
            n += 1
        }
        return out
    }

    /// RFC 5321 §4.5.2: a line starting with "." gets another one.
    static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 50)
        var lineStart = true
        for byte in message {
            if lineStart && byte == UInt8(ascii: ".") { out.append(byte) }
            out.append(byte)
            lineStart = byte == 10
        }
        return out
    }

    static func spillFiles(_ server: TestServer) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: server.dataDirectory + "/queue")) ?? [])
            .filter { $0.hasPrefix(".tmp-spill-") }   // not the queue writer's recycled (empty) temp files
    }

    /// Sends the transaction up to DATA; returns the client after the 354.
    static func open(_ server: TestServer, submission: Bool, from: String, to: String) async throws -> TestClient {
        let client = submission ? try await TestClient(port: server.ports[.submissions]!, implicitTLS: true)
                                : try await TestClient(port: server.ports[.mx]!)
        _ = try await client.readLine()
        let auth = submission ? "AUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAc2VjcmV0\r\n" : ""
        try await client.send(Array("EHLO client.example\r\n\(auth)MAIL FROM:<\(from)>\r\nRCPT TO:<\(to)>\r\nDATA\r\n".utf8))
        while let line = try await client.readLine(), !line.hasPrefix("354") {
            if line.hasPrefix("4") || line.hasPrefix("5") { throw TestFailure(line) }
        }
        return client
    }

    /// Sends `message` as DATA in 64 KiB pieces; true once a spill file existed while it was arriving.
    static func sendData(_ client: TestClient, _ message: [UInt8], server: TestServer) async throws -> Bool {
        let wire = dotStuffed(message)
        var sawSpill = false
        var offset = 0
        while offset < wire.count {
            let end = min(wire.count, offset + 64 * 1024)
            try await client.send(Array(wire[offset..<end]))
            offset = end
            if !sawSpill, offset > 768 * 1024 { sawSpill = !spillFiles(server).isEmpty }
        }
        // The server may still be decoding what was sent: the file must show up before the end is sent.
        let deadline = ContinuousClock.now + .seconds(30)
        while !sawSpill && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            sawSpill = !spillFiles(server).isEmpty
        }
        try await client.send(Array(".\r\n".utf8))
        return sawSpill
    }

    static func waitForMaildir(_ server: TestServer, _ user: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while server.maildirCount(user) == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return try #require(server.maildirMessages(user).first)
    }

    @Test func largeMessageArrivesByteForByteThroughTheDisk() async throws {
        let server = try await TestServer(maxMessageBytes: 8 << 20)
        let original = Self.message("From: a@client.example\r\nTo: dev@example.test\r\nSubject: big", bytes: 1536 << 10)
        let client = try await Self.open(server, submission: false, from: "a@client.example", to: "dev@example.test")
        #expect(try await Self.sendData(client, original, server: server), "no .tmp-spill file while DATA arrived")
        #expect(try await client.readLine(timeout: .seconds(120))?.hasPrefix("250 2.0.0") == true)
        await client.close()
        let delivered = Array(try await Self.waitForMaildir(server, "dev").utf8)
        // Trace fields on top, then the message exactly as sent before dot-stuffing.
        #expect(delivered.count > original.count)
        #expect(SHA256.hash(data: delivered.suffix(original.count)) == SHA256.hash(data: original))
        #expect(Self.spillFiles(server).isEmpty)
        await server.stop()
    }

    @Test func connectionDroppedMidDataLeavesNoFile() async throws {
        let server = try await TestServer(maxMessageBytes: 8 << 20)
        let client = try await Self.open(server, submission: false, from: "a@client.example", to: "dev@example.test")
        let wire = Self.dotStuffed(Self.message("Subject: cut", bytes: 2 << 20))
        try await client.send(Array(wire.prefix(1536 * 1024)))
        let deadline = ContinuousClock.now + .seconds(10)
        while Self.spillFiles(server).isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!Self.spillFiles(server).isEmpty, "the message did not spill")
        await client.close()
        let gone = ContinuousClock.now + .seconds(10)
        while !Self.spillFiles(server).isEmpty && ContinuousClock.now < gone { try await Task.sleep(for: .milliseconds(20)) }
        #expect(Self.spillFiles(server).isEmpty, "left behind: \(Self.spillFiles(server))")
        #expect(server.queueCount() == 0)
        await server.stop()
    }

    /// A signed message from outside, larger than the threshold: dkim=pass (and fail when its body changed
    /// on the way, so the pass is computed, not assumed).
    @Test(arguments: [false, true])
    func inboundSignatureOfASpilledMessageIsVerified(tampered: Bool) async throws {
        let key = try DKIMSigningKey.generate(.ed25519, domain: "remote.example", selector: "s1")
        var dns = StaticResolver()
        dns.addTXT("s1._domainkey.remote.example", key.txtRecord)
        let server = try await TestServer(maxMessageBytes: 8 << 20, resolver: dns)
        let original = Self.message("From: a@remote.example\r\nTo: dev@example.test\r\nSubject: signed big\r\n"
            + "Date: Mon, 30 Nov 2026 10:00:00 +0000", bytes: 1 << 20)
        var signed = try DKIMSigner(timestamp: Int64(Date().timeIntervalSince1970)).sign(message: original, keys: [key])
        if tampered { signed[signed.count - 10] ^= 0x01 }
        let client = try await Self.open(server, submission: false, from: "a@remote.example", to: "dev@example.test")
        #expect(try await Self.sendData(client, signed, server: server))
        #expect(try await client.readLine(timeout: .seconds(120))?.hasPrefix("250 2.0.0") == true)
        await client.close()
        let delivered = try await Self.waitForMaildir(server, "dev")
        let expected = tampered ? "dkim=fail header.d=remote.example" : "dkim=pass header.d=remote.example"
        #expect(delivered.contains(expected), "\(delivered.prefix(600))")
        await server.stop()
    }

    /// A large submission is signed from its spill file; dkimpy (and our verifier) accept the signature.
    @Test func spilledSubmissionIsSignedAndDkimpyVerifies() async throws {
        let key = try DKIMSigningKey.generate(.rsa2048, domain: "example.test", selector: "big")
        let server = try await TestServer(maxMessageBytes: 8 << 20, prepare: { config in
            _ = try DKIMKeyStore.write(key, configDirectory: config)
        })
        let original = Self.message("From: Dev <dev@example.test>\r\nTo: bob@example.test\r\nSubject: signed on disk\r\n"
            + "Date: Mon, 30 Nov 2026 10:00:00 +0000", bytes: 1 << 20)
        let client = try await Self.open(server, submission: true, from: "dev@example.test", to: "bob@example.test")
        #expect(try await Self.sendData(client, original, server: server))
        #expect(try await client.readLine(timeout: .seconds(120))?.hasPrefix("250 2.0.0") == true)
        await client.close()
        let delivered = Array(try await Self.waitForMaildir(server, "bob").utf8)
        #expect(SHA256.hash(data: delivered.suffix(original.count)) == SHA256.hash(data: original))
        let ours = await DKIMVerifier(lookup: staticKeyLookup(["big._domainkey.example.test": [key.txtRecord]]))
            .verify(message: delivered, now: Int64(Date().timeIntervalSince1970))
        #expect(ours.map(\.status) == [.pass], "\(ours)")
        #expect(try Self.dkimpyVerifies(delivered, ["big._domainkey.example.test": key.txtRecord]))
        await server.stop()
    }

    static func dkimpyVerifies(_ message: [UInt8], _ dns: [String: String]) throws -> Bool {
        let dir = NSTemporaryDirectory() + "apus-large-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(message).write(to: URL(fileURLWithPath: dir + "/msg"))
        try JSONSerialization.data(withJSONObject: dns).write(to: URL(fileURLWithPath: dir + "/dns.json"))
        let script = """
            import sys, json, dkim
            msg = open(sys.argv[1], 'rb').read()
            dns = json.load(open(sys.argv[2]))
            def dnsfunc(name, timeout=5):
                v = dns.get((name.decode() if isinstance(name, bytes) else name).rstrip('.'))
                return v.encode() if v else None
            print('pass' if dkim.DKIM(msg).verify(dnsfunc=dnsfunc) else 'fail')
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", script, dir + "/msg", dir + "/dns.json"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines) == "pass"
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
