import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `[delivery] lmtp`: local mail handed to a real Dovecot LMTP server (Debian `dovecot-lmtpd`) on loopback.
struct LMTPDeliveryTests {
    /// A throw-away Dovecot serving only LMTP on 127.0.0.1, storing into `root/mail/<domain>/<user>/`.
    final class Dovecot: Sendable {
        static let binary = "/usr/sbin/dovecot"
        let pid: pid_t
        let port: Int
        let root: String

        init(root: String) async throws {
            guard access(Self.binary, X_OK) == 0 else {
                throw TranscriptError("dovecot not found at \(Self.binary): install dovecot-lmtpd (apt-get install -y dovecot-lmtpd)")
            }
            self.root = root
            var port = 0
            var pid: pid_t = 0
            for _ in 0..<5 {
                port = try await Dnsmasq.freePort()
                for sub in ["run", "state", "mail"] {
                    try FileManager.default.createDirectory(atPath: "\(root)/\(sub)", withIntermediateDirectories: true)
                }
                chmod("\(root)/mail", 0o777)
                let conf = """
                    base_dir = \(root)/run
                    state_dir = \(root)/state
                    log_path = \(root)/dovecot.log
                    protocols = lmtp
                    ssl = no
                    listen = 127.0.0.1
                    mail_location = maildir:\(root)/mail/%d/%n
                    first_valid_uid = 1
                    mail_uid = dovecot
                    mail_gid = dovecot
                    userdb {
                      driver = static
                      args = uid=dovecot gid=dovecot home=\(root)/home/%d/%n allow_all_users=yes
                    }
                    passdb {
                      driver = static
                      args = nopassword=y
                    }
                    service lmtp {
                      inet_listener lmtp {
                        address = 127.0.0.1
                        port = \(port)
                      }
                    }
                    """
                try conf.write(toFile: "\(root)/dovecot.conf", atomically: true, encoding: .utf8)
                pid = try Dnsmasq.spawn([Self.binary, "-F", "-c", "\(root)/dovecot.conf"], path: Self.binary)
                if await Self.accepts(port: port) { break }
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                pid = 0
            }
            guard pid != 0 else { throw TranscriptError("dovecot did not start; see \(root)/dovecot.log") }
            self.pid = pid
            self.port = port
        }

        static func accepts(port: Int) async -> Bool {
            for _ in 0..<50 {
                if let client = try? await TestClient(port: port) {
                    await client.close()
                    return true
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        func messages(_ domain: String, _ user: String) -> [String] {
            let dir = "\(root)/mail/\(domain)/\(user)/new"
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
                .compactMap { try? String(contentsOfFile: "\(dir)/\($0)", encoding: .utf8) }
        }

        func stop() {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    @Test func localMailGoesThroughLMTP() async throws {
        let dovecot = try await Dovecot(root: NSTemporaryDirectory() + "apus-dovecot-" + UUID().uuidString)
        defer { dovecot.stop() }
        let server = try await TestServer(configure: { $0.delivery.lmtp = "127.0.0.1:\(dovecot.port)" })
        let client = try await TestClient(port: server.ports[.mx]!)
        _ = try await client.readLine()
        try await client.send(Array(("HELO c\r\nMAIL FROM:<a@remote.example>\r\nRCPT TO:<dev@example.test>\r\n"
            + "RCPT TO:<bob@example.test>\r\nDATA\r\n").utf8))
        for _ in 0..<5 { _ = try await client.readLine() }
        try await client.send(Array("Subject: via lmtp\r\n\r\n..dotted line\r\n.\r\n".utf8))
        #expect(try await client.readLine()?.hasPrefix("250 2.0.0") == true)
        await client.close()

        let deadline = ContinuousClock.now + .seconds(10)
        while (dovecot.messages("example.test", "dev").isEmpty || dovecot.messages("example.test", "bob").isEmpty)
                && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let dev = dovecot.messages("example.test", "dev")
        #expect(dev.count == 1)
        #expect(dovecot.messages("example.test", "bob").count == 1)
        #expect(dev.first?.contains("Subject: via lmtp") == true)
        #expect(dev.first?.contains("\n.dotted line") == true)      // dot-stuffing undone by Dovecot
        #expect(server.maildirCount() == 0)                        // Apus wrote no Maildir itself
        // The queue file goes once the runner has recorded both deliveries (a moment after Dovecot has them).
        let emptied = ContinuousClock.now + .seconds(5)
        while server.queueCount() > 0 && ContinuousClock.now < emptied { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.queueCount() == 0)
        await server.stop()
    }
}

/// `[delivery] mda`: a command delivers local mail; exit 75 means "try again later".
struct MDADeliveryTests {
    @Test func mdaCommandGetsTheMessageAndExit75Defers() async throws {
        let out = NSTemporaryDirectory() + "apus-mda-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        // bob's delivery fails temporarily; dev's is written to a file named after $USER.
        let command = "[ \"$USER\" = bob ] && exit 75; cat > '\(out)/'\"$USER\"'@'\"$DOMAIN\""
        let server = try await TestServer(configure: { $0.delivery.mda = command })
        let client = try await TestClient(port: server.ports[.mx]!)
        _ = try await client.readLine()
        try await client.send(Array(("HELO c\r\nMAIL FROM:<a@remote.example>\r\nRCPT TO:<dev@example.test>\r\n"
            + "RCPT TO:<bob@example.test>\r\nDATA\r\n").utf8))
        for _ in 0..<5 { _ = try await client.readLine() }
        try await client.send(Array("Subject: via mda\r\n\r\nhello\r\n.\r\n".utf8))
        #expect(try await client.readLine()?.hasPrefix("250 2.0.0") == true)
        await client.close()
        let file = out + "/dev@example.test"
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: file) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(300))
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("Subject: via mda\r\n\r\nhello\r\n"))
        #expect(server.maildirCount() == 0)
        // bob's copy stays queued for a retry (exit 75), dev's is done.
        let queue = server.dataDirectory + "/queue"
        let states = ((try? FileManager.default.contentsOfDirectory(atPath: queue)) ?? []).filter { $0.hasSuffix(".state") }
        #expect(states.count == 1)
        if let state = states.first {
            let json = try String(contentsOfFile: "\(queue)/\(state)", encoding: .utf8)
            #expect(json.contains("\"state\":\"pending\""))
            #expect(json.contains("\"state\":\"sent\""))
        }
        await server.stop()
    }
}
