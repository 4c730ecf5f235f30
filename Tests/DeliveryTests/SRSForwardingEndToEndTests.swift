import Config
import Directory
import Foundation
import MailQueue
import MailServer
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

/// Issue 5's integration acceptance, end to end on loopback: a real `MailServer` for example.test
/// (`*: i`, `i: someone@remote.test`), a real dnsmasq zone, and two capturing MXs (remote.test on 127.0.0.2,
/// sender.test on 127.0.0.3, both on the port `[delivery] smtp_port` points at). Sender checks stay on:
/// sender.test and remote.test publish no SPF or DMARC, so they evaluate to `none` and are accepted.
@Suite struct SRSForwardingEndToEndTests {
    static let spfRecord = "v=spf1 ip4:127.0.0.0/8 -all"

    @Test(.timeLimit(.minutes(1))) func forwardWithSRSBounceBackAndUserPlusTag() async throws {
        let dnsmasq = try await Dnsmasq.start([
            "--mx-host=remote.test,mx.remote.test,10", "--host-record=mx.remote.test,127.0.0.2",
            "--mx-host=sender.test,mx.sender.test,10", "--host-record=mx.sender.test,127.0.0.3",
            "--txt-record=example.test,\(Self.spfRecord)",
        ])
        defer { dnsmasq.stop() }
        let (remoteMX, senderMX) = try await Self.startMXPair()
        let root = NSTemporaryDirectory() + "apus-srs-e2e-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let configDir = root + "/config", dataDir = root + "/data"
        try FileManager.default.createDirectory(atPath: configDir + "/domains/example.test", withIntermediateDirectories: true)
        try "dev \(try PasswordHash.make(password: "x", logN: 10))\n"
            .write(toFile: configDir + "/domains/example.test/users", atomically: true, encoding: .utf8)
        try "*: i\ni: someone@remote.test\n"
            .write(toFile: configDir + "/domains/example.test/aliases", atomically: true, encoding: .utf8)
        var config = ApusConfig(hostname: "mx.example.test", dataDir: dataDir)
        config.listen = .init(mx: [ListenAddress(host: "127.0.0.1", port: 0)], submission: [], submissions: [], admin: [])
        config.dns.servers = [try ListenAddress.parse(dnsmasq.address, defaultPort: 53)]
        config.delivery.smtpPort = remoteMX.port
        try config.render().write(toFile: configDir + "/apus.toml", atomically: true, encoding: .utf8)

        let server = try MailServer(config: try ApusConfig.load(configDirectory: configDir), configDirectory: configDir,
                                    logger: DeliveryHarness.logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: DeliveryHarness.logger))
        let task = Task { try await group.run() }
        defer { task.cancel() }
        let mxPort = try #require(await server.boundAddresses().first { $0.0 == .mx }?.1.port)

        // 1. bob@sender.test → random@example.test: the catch-all forwards to remote.test with an SRS0 sender.
        let forward = try await TestClient(port: mxPort)
        #expect(try await forward.command(nil).hasPrefix("220"))
        #expect(try await forward.command("HELO mx.sender.test").hasPrefix("250"))
        #expect(try await forward.command("MAIL FROM:<bob@sender.test>").hasPrefix("250"))
        #expect(try await forward.command("RCPT TO:<random@example.test>").hasPrefix("250"))
        #expect(try await forward.command("DATA").hasPrefix("354"))
        #expect(try await forward.command("From: <bob@sender.test>\r\nTo: <random@example.test>\r\nSubject: forward me\r\n"
            + "Message-ID: <fwd-1@sender.test>\r\n\r\nHello.\r\n.").hasPrefix("250"))
        #expect(await DeliveryHarness.waitUntil(5) { remoteMX.received.count == 1 })
        let forwarded = try #require(remoteMX.received.first)
        #expect(forwarded.recipients == ["someone@remote.test"])
        #expect(forwarded.data.contains("Subject: forward me\r\n"))
        let srs = forwarded.mailFrom
        #expect(srs.hasPrefix("SRS0="), "envelope sender at remote.test: \(srs)")
        #expect(srs.hasSuffix("=sender.test=bob@example.test"), "envelope sender at remote.test: \(srs)")
        #expect(remoteMX.commands.contains("MAIL FROM:<\(srs)>"))

        // 2. pyspf, resolving through the same dnsmasq: our IP passes for the SRS sender; a foreign IP fails
        //    (which shows the zone's record was the one evaluated).
        #expect(try Self.pyspf(ip: "127.0.0.1", sender: srs, dnsPort: dnsmasq.port) == "pass")
        #expect(try Self.pyspf(ip: "192.0.2.1", sender: srs, dnsPort: dnsmasq.port) == "fail")

        // 3. remote.test bounces to the SRS address: accepted, and forwarded to sender.test's MX with <>.
        #expect(try await forward.command("QUIT").hasPrefix("221"))
        await forward.close()
        let bounce = try await TestClient(port: mxPort)
        #expect(try await bounce.command(nil).hasPrefix("220"))
        #expect(try await bounce.command("HELO mx.remote.test").hasPrefix("250"))
        #expect(try await bounce.command("MAIL FROM:<>").hasPrefix("250"))
        #expect(try await bounce.command("RCPT TO:<\(srs)>").hasPrefix("250"))
        #expect(try await bounce.command("DATA").hasPrefix("354"))
        let dsn = "From: Mail Delivery System <MAILER-DAEMON@mx.remote.test>\r\nTo: <\(srs)>\r\n"
            + "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.remote.test>\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
            + "--b\r\nContent-Type: text/plain\r\n\r\nsomeone@remote.test: mailbox full\r\n"
            + "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.remote.test\r\n\r\n"
            + "Final-Recipient: rfc822; someone@remote.test\r\nAction: failed\r\nStatus: 5.2.2\r\n"
            + "--b--\r\n."
        #expect(try await bounce.command(dsn).hasPrefix("250"))
        #expect(try await bounce.command("QUIT").hasPrefix("221"))
        await bounce.close()
        #expect(await DeliveryHarness.waitUntil(5) { senderMX.received.count == 1 })
        let returned = try #require(senderMX.received.first)
        #expect(returned.mailFrom == "")
        #expect(returned.recipients == ["bob@sender.test"])
        #expect(senderMX.commands.contains("MAIL FROM:<>"))
        #expect(senderMX.commands.contains("RCPT TO:<bob@sender.test>"))
        #expect(returned.data.contains("Subject: Undelivered Mail Returned to Sender\r\n"))

        // 4. dev+tag@example.test goes to dev's Maildir, not to the catch-all's forward.
        let tagged = try await TestClient(port: mxPort)
        #expect(try await tagged.command(nil).hasPrefix("220"))
        #expect(try await tagged.command("HELO mx.sender.test").hasPrefix("250"))
        #expect(try await tagged.command("MAIL FROM:<bob@sender.test>").hasPrefix("250"))
        #expect(try await tagged.command("RCPT TO:<dev+tag@example.test>").hasPrefix("250"))
        #expect(try await tagged.command("DATA").hasPrefix("354"))
        #expect(try await tagged.command("From: <bob@sender.test>\r\nTo: <dev+tag@example.test>\r\nSubject: tagged\r\n"
            + "Message-ID: <tag-1@sender.test>\r\n\r\nFor dev.\r\n.").hasPrefix("250"))
        #expect(try await tagged.command("QUIT").hasPrefix("221"))
        await tagged.close()
        let maildir = dataDir + "/mail/example.test/dev/new"
        let devMessages: @Sendable () -> [String] = {
            ((try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []).sorted()
                .compactMap { try? String(contentsOfFile: maildir + "/" + $0, encoding: .utf8) }
        }
        #expect(await DeliveryHarness.waitUntil(5) { devMessages().count == 1 })
        #expect(devMessages().first?.contains("Subject: tagged\r\n") == true)
        #expect(devMessages().first?.contains("Delivered-To: dev") == true)
        // Nothing left queued, and remote.test still has only the first message.
        let spool = try FileSpool(directory: dataDir + "/queue")
        #expect(await DeliveryHarness.waitUntil(5) { (try? await spool.list())?.isEmpty == true })
        #expect(remoteMX.received.count == 1)
        #expect(senderMX.received.count == 1)

        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await remoteMX.stop()
        await senderMX.stop()
    }

    /// Capturing MXs on 127.0.0.2 and 127.0.0.3 sharing one port (the courier has a single `smtp_port`).
    static func startMXPair() async throws -> (FakeMX, FakeMX) {
        var lastError: (any Error)?
        for _ in 0..<10 {
            let first = try await FakeMX.start(ip: "127.0.0.2", port: 0)
            do {
                return (first, try await FakeMX.start(ip: "127.0.0.3", port: first.port))
            } catch {
                lastError = error
                await first.stop()
            }
        }
        throw lastError!
    }

    /// Debian's python3-spf (pyspf) evaluating `sender` from `ip`, with its dnspython resolver pointed at the
    /// test dnsmasq. A missing `spf` module makes python exit non-zero, which fails the test (no skip).
    static func pyspf(ip: String, sender: String, dnsPort: Int) throws -> String {
        let script = """
        import sys, dns.resolver, spf
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = ['127.0.0.1']
        r.port = int(sys.argv[1])
        r.lifetime = 3
        dns.resolver.default_resolver = r
        result, explanation = spf.check2(i=sys.argv[2], s=sys.argv[3], h='mx.remote.test', timeout=3)
        print(result)
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, String(dnsPort), ip, sender]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "pyspf (python3-spf) failed: \(errorText)")
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
