import Delivery
import DNSCore
import DNSResolver
import Foundation
import MailQueue
import NIOCore
import NIOPosix
import SMTPTransport
import Testing

/// Outbound delivery against a real DNS server (dnsmasq) and fault-injecting MX servers on 127.0.0.x.
/// Every MX of a test listens on the same port, which the courier uses as `[delivery] smtp_port`.
@Suite struct RemoteDeliveryTests {
    /// Starts dnsmasq with `records` plus the zone every test shares.
    static func dns(_ records: [String] = []) async throws -> (Dnsmasq, DNSResolver) {
        let zone = [
            "--mx-host=multi.test,mx1.multi.test,10", "--host-record=mx1.multi.test,127.0.0.2",
            "--mx-host=fallback.test,dead.fallback.test,10", "--host-record=dead.fallback.test,127.0.0.5",
            "--mx-host=fallback.test,busy.fallback.test,20", "--host-record=busy.fallback.test,127.0.0.3",
            "--mx-host=fallback.test,good.fallback.test,30", "--host-record=good.fallback.test,127.0.0.4",
            "--mx-host=nullmx.test,.,0",
            "--host-record=implicit.test,127.0.0.2",
            "--txt-record=noaddress.test,nothing here",
        ]
        let server = try await Dnsmasq.start(zone + records)
        return (server, server.resolver(timeout: .seconds(1), attempts: 2))
    }

    /// One message to three recipients at one MX: the accepted one is sent in one transaction, the 550 one
    /// bounces at once (DSN to the local sender, parsed with Python), the 451 one is retried until the MX
    /// accepts it.
    @Test func perRecipientRetryVersusBounce() async throws {
        let (dnsmasq, resolver) = try await Self.dns()
        defer { dnsmasq.stop() }
        let mx = try await FakeMX.start(ip: "127.0.0.2", port: 0)
        let harness = try DeliveryHarness(dns: resolver, port: mx.port)
        let id = try await harness.enqueue(from: "sender@local.test",
                                           to: ["ok@multi.test", "reject@multi.test", "later@multi.test"])
        // First attempt: ok sent, reject failed, later pending.
        #expect(await DeliveryHarness.waitUntil { harness.maildir("sender").count == 1 })
        let first = try #require(await harness.meta(id))
        #expect(first.recipients.map(\.state) == [.sent, .failed, .pending])
        #expect(first.recipients[2].lastReply?.contains("451 4.2.1") == true)
        #expect(first.recipients[1].remoteMTA == "mx1.multi.test [127.0.0.2]")
        #expect(mx.received.count == 1)
        #expect(mx.received.first?.recipients == ["ok@multi.test"])
        #expect(mx.received.first?.mailFrom == "sender@local.test")

        // The DSN, delivered locally to the sender.
        let dsn = try PythonEmail.parse(harness.maildir("sender")[0])
        #expect(dsn["report_type"] as? String == "delivery-status")
        let rcpts = dsn["recipients"] as? [[String: String]] ?? []
        #expect(rcpts.count == 1)
        #expect(rcpts.first?["Final-Recipient"] == "rfc822;reject@multi.test")
        #expect(rcpts.first?["Status"] == "5.1.1")
        #expect(rcpts.first?["Action"] == "failed")
        #expect(rcpts.first?["Remote-MTA"] == "dns;mx1.multi.test")
        #expect(rcpts.first?["Diagnostic-Code"]?.contains("550 5.1.1") == true)
        #expect((dsn["headers"] as? String)?.contains("Subject: test") == true)

        // Retries (every 300 ms here) keep failing until the mailbox frees up.
        #expect(await DeliveryHarness.waitUntil { (await harness.meta(id))?.recipients[2].attempts ?? 0 >= 2 })
        mx.setBehavior { $0.rcpt = { _ in "250 2.1.5 Ok" } }
        #expect(await DeliveryHarness.waitUntil { harness.queueIDs().isEmpty })
        #expect(mx.received.count == 2)
        #expect(mx.received.last?.recipients == ["later@multi.test"])
        #expect(harness.maildir("sender").count == 1)   // no second DSN
        await harness.stop()
        await mx.stop()
    }

    /// MX by preference: the first host does not answer, the second greets with 421, the third takes it.
    @Test func mxFallback() async throws {
        let (dnsmasq, resolver) = try await Self.dns()
        defer { dnsmasq.stop() }
        let good = try await FakeMX.start(ip: "127.0.0.4", port: 0)
        let busy = try await FakeMX.start(ip: "127.0.0.3", port: good.port,
                                          behavior: .init(greeting: "421 4.3.2 busy.fallback.test too busy"))
        let harness = try DeliveryHarness(dns: resolver, port: good.port)
        let results = await harness.courier.deliver(domain: "fallback.test", mailFrom: "a@local.test",
                                                    recipients: ["x@fallback.test"], message: ByteBuffer(string: "Subject: x\r\n\r\nx\r\n"),
                                                    smtputf8: false)
        #expect(results.map(\.outcome) == [.sent])
        #expect(results.first?.remoteMTA == "good.fallback.test [127.0.0.4]")
        #expect(busy.connections == 1)
        #expect(good.received.count == 1)
        await harness.stop()
        await good.stop()
        await busy.stop()
    }

    /// Null MX (RFC 7505) and NXDOMAIN fail at once, on the first attempt, and bounce.
    @Test func nullMXAndNXDOMAINBounceAtOnce() async throws {
        let (dnsmasq, resolver) = try await Self.dns()
        defer { dnsmasq.stop() }
        let harness = try DeliveryHarness(dns: resolver, port: 9)
        let id = try await harness.enqueue(from: "sender@local.test", to: ["a@nullmx.test", "b@nosuch.test"])
        #expect(await DeliveryHarness.waitUntil { harness.maildir("sender").count == 1 })
        #expect(await DeliveryHarness.waitUntil { !harness.queueIDs().contains(id) })
        let dsn = try PythonEmail.parse(harness.maildir("sender")[0])
        let rcpts = dsn["recipients"] as? [[String: String]] ?? []
        let byAddress = Dictionary(uniqueKeysWithValues: rcpts.map { ($0["Final-Recipient"] ?? "", $0) })
        #expect(byAddress["rfc822;a@nullmx.test"]?["Status"] == "5.1.10")
        #expect(byAddress["rfc822;a@nullmx.test"]?["Diagnostic-Code"]?.contains("null MX") == true)
        #expect(byAddress["rfc822;b@nosuch.test"]?["Status"] == "5.1.2")
        #expect(byAddress["rfc822;b@nosuch.test"]?["Diagnostic-Code"]?.contains("NXDOMAIN") == true)
        await harness.stop()
    }

    /// No MX: the domain's own address is the MX (RFC 5321 §5.1).
    @Test func implicitMX() async throws {
        let (dnsmasq, resolver) = try await Self.dns()
        defer { dnsmasq.stop() }
        let mx = try await FakeMX.start(ip: "127.0.0.2", port: 0)
        let harness = try DeliveryHarness(dns: resolver, port: mx.port)
        let results = await harness.courier.deliver(domain: "implicit.test", mailFrom: "a@local.test",
                                                    recipients: ["x@implicit.test"], message: ByteBuffer(string: "x\r\n"),
                                                    smtputf8: false)
        #expect(results.map(\.outcome) == [.sent])
        #expect(results.first?.remoteMTA == "implicit.test [127.0.0.2]")
        // A name that exists but has neither MX nor address: permanent.
        let none = await harness.courier.deliver(domain: "noaddress.test", mailFrom: "a@local.test",
                                                 recipients: ["x@noaddress.test"], message: ByteBuffer(string: "x\r\n"),
                                                 smtputf8: false)
        #expect(none.map(\.outcome) == [.permanent])
        await harness.stop()
        await mx.stop()
    }

    /// Both address families: IPv6 first; when nothing answers there, IPv4.
    @Test func ipv6ThenIPv4() async throws {
        let (dnsmasq, resolver) = try await Self.dns(["--mx-host=dual.test,mx.dual.test,10",
                                                      "--host-record=mx.dual.test,127.0.0.2,::1"])
        defer { dnsmasq.stop() }
        let v4 = try await FakeMX.start(ip: "127.0.0.2", port: 0)
        let harness = try DeliveryHarness(dns: resolver, port: v4.port, reuseConnections: false)
        let viaV4 = await harness.courier.deliver(domain: "dual.test", mailFrom: "a@local.test", recipients: ["x@dual.test"],
                                                  message: ByteBuffer(string: "x\r\n"), smtputf8: false)
        #expect(viaV4.first?.remoteMTA == "mx.dual.test [127.0.0.2]", "\(viaV4)")
        let v6 = try await FakeMX.start(ip: "::1", port: v4.port)
        let viaV6 = await harness.courier.deliver(domain: "dual.test", mailFrom: "a@local.test", recipients: ["x@dual.test"],
                                                  message: ByteBuffer(string: "x\r\n"), smtputf8: false)
        #expect(viaV6.map(\.outcome) == [.sent])
        #expect(viaV6.first?.remoteMTA == "mx.dual.test [::1]", "\(viaV6)")
        #expect(v6.received.count == 1)
        await harness.stop()
        await v4.stop()
        await v6.stop()
    }

    /// SERVFAIL and timeouts defer (a fake resolver injects them).
    @Test func dnsTroubleDefers() async throws {
        var dns = StaticResolver()
        dns.fail("broken.test", .mx, with: .serverFailure)
        dns.fail("slow.test", with: .timeout)
        let harness = try DeliveryHarness(dns: dns, port: 9)
        for domain in ["broken.test", "slow.test"] {
            let results = await harness.courier.deliver(domain: domain, mailFrom: "a@local.test", recipients: ["x@\(domain)"],
                                                        message: ByteBuffer(string: "x\r\n"), smtputf8: false)
            #expect(results.map(\.outcome) == [.temporary])
            #expect(results.first?.status.description == "4.4.3")
        }
        await harness.stop()
    }

    /// Faults during the transaction: each gives a temporary or permanent result per recipient, as the
    /// reply class says; a dropped connection or a stalled server (timeout) defers.
    @Test(arguments: [
        ("drop", RecipientResult.Outcome.temporary, "connection"),
        ("stall", .temporary, "timeout"),
        ("451", .temporary, "451 4.3.0"),
        ("554", .permanent, "554 5.6.0"),
        ("size", .permanent, "exceeds the limit"),
    ])
    func transactionFaults(fault: String, outcome: RecipientResult.Outcome, reason: String) async throws {
        let (dnsmasq, resolver) = try await Self.dns()
        defer { dnsmasq.stop() }
        var behavior = FakeMX.Behavior()
        switch fault {
        case "drop": behavior.data = .dropMidData
        case "stall": behavior.data = .stall
        case "451": behavior.data = .reply("451 4.3.0 disk full, try later")
        case "554": behavior.data = .reply("554 5.6.0 message refused")
        default: behavior.size = 10
        }
        let mx = try await FakeMX.start(ip: "127.0.0.2", port: 0, behavior: behavior)
        // A short timeout only where it is the point (stall); under load the others need slack.
        let harness = try DeliveryHarness(dns: resolver, port: mx.port, timeouts: .all(.seconds(fault == "stall" ? 1 : 10)))
        let results = await harness.courier.deliver(domain: "multi.test", mailFrom: "a@local.test",
                                                    recipients: ["x@multi.test", "y@multi.test"],
                                                    message: ByteBuffer(string: "Subject: x\r\n\r\n" + String(repeating: "line\r\n", count: 2000)),
                                                    smtputf8: false)
        #expect(results.map(\.outcome) == [outcome, outcome])
        #expect(results.first?.reply.contains(reason) == true, "\(results)")
        await harness.stop()
        await mx.stop()
    }

    /// Without PIPELINING each command waits for its reply; the result is the same.
    @Test func withoutPipelining() async throws {
        let (dnsmasq, resolver) = try await Self.dns()
        defer { dnsmasq.stop() }
        let mx = try await FakeMX.start(ip: "127.0.0.2", port: 0, behavior: .init(pipelining: false))
        let harness = try DeliveryHarness(dns: resolver, port: mx.port)
        let results = await harness.courier.deliver(domain: "multi.test", mailFrom: "a@local.test",
                                                    recipients: ["ok@multi.test", "reject@multi.test"],
                                                    message: ByteBuffer(string: ".starts with a dot\r\nx\r\n"), smtputf8: false)
        #expect(results.map(\.outcome) == [.sent, .permanent])
        #expect(mx.received.first?.data == "..starts with a dot\r\nx\r\n")
        await harness.stop()
        await mx.stop()
    }

    /// Messages to one domain in a row share one connection (RSET between them), until it idles out.
    @Test func connectionReuse() async throws {
        let (dnsmasq, resolver) = try await Self.dns()
        defer { dnsmasq.stop() }
        let mx = try await FakeMX.start(ip: "127.0.0.2", port: 0)
        let harness = try DeliveryHarness(dns: resolver, port: mx.port)
        for n in 1...3 {
            let results = await harness.courier.deliver(domain: "multi.test", mailFrom: "a@local.test", recipients: ["m\(n)@multi.test"],
                                                        message: ByteBuffer(string: "Subject: \(n)\r\n\r\nx\r\n"), smtputf8: false)
            #expect(results.map(\.outcome) == [.sent])
        }
        #expect(mx.received.map(\.recipients) == [["m1@multi.test"], ["m2@multi.test"], ["m3@multi.test"]])
        #expect(mx.connections == 1)
        #expect(mx.commands.filter { $0 == "RSET" }.count == 2)
        // A server that hung up meanwhile: the next message opens a new connection.
        mx.setBehavior { $0.data = .dropMidData }
        _ = await harness.courier.deliver(domain: "multi.test", mailFrom: "a@local.test", recipients: ["x@multi.test"],
                                          message: ByteBuffer(string: "x\r\n"), smtputf8: false)
        mx.setBehavior { $0.data = .accept }
        let after = await harness.courier.deliver(domain: "multi.test", mailFrom: "a@local.test", recipients: ["y@multi.test"],
                                                  message: ByteBuffer(string: "x\r\n"), smtputf8: false)
        #expect(after.map(\.outcome) == [.sent])
        #expect(mx.connections == 2)
        await harness.stop()
        await mx.stop()
    }

    /// Every attempt fails with 451 until give_up_after: the runner gives up and bounces with 4.4.7.
    @Test func givesUpAndBounces() async throws {
        let (dnsmasq, resolver) = try await Self.dns()
        defer { dnsmasq.stop() }
        let mx = try await FakeMX.start(ip: "127.0.0.2", port: 0)
        let harness = try DeliveryHarness(dns: resolver, port: mx.port,
                                          schedule: RetrySchedule(delays: [.milliseconds(200)], giveUpAfter: .seconds(2)))
        let id = try await harness.enqueue(from: "sender@local.test", to: ["later@multi.test"])
        #expect(await DeliveryHarness.waitUntil { harness.maildir("sender").count == 1 })
        #expect(await DeliveryHarness.waitUntil { !harness.queueIDs().contains(id) })
        let dsn = try PythonEmail.parse(harness.maildir("sender")[0])
        let rcpts = dsn["recipients"] as? [[String: String]] ?? []
        #expect(rcpts.first?["Status"] == "4.4.7")
        #expect(rcpts.first?["Diagnostic-Code"]?.contains("451 4.2.1") == true)
        // At least one attempt; usually several (every 200 ms), fewer on a loaded machine.
        #expect(mx.commands.filter { $0.hasPrefix("MAIL") }.count >= 1)
        await harness.stop()
        await mx.stop()
    }

    /// A bounce of a message from `<>` is never sent.
    @Test func noDSNForNullSender() async throws {
        let (dnsmasq, resolver) = try await Self.dns()
        defer { dnsmasq.stop() }
        let mx = try await FakeMX.start(ip: "127.0.0.2", port: 0)
        let harness = try DeliveryHarness(dns: resolver, port: mx.port)
        let id = try await harness.enqueue(from: "", to: ["reject@multi.test"])
        #expect(await DeliveryHarness.waitUntil { !harness.queueIDs().contains(id) })
        try await Task.sleep(for: .milliseconds(200))
        #expect(harness.queueIDs().isEmpty)
        #expect(mx.commands.contains { $0 == "MAIL FROM:<>" })
        await harness.stop()
        await mx.stop()
    }

    /// `apus queue retry`: a trigger file makes a deferred message due at once.
    @Test func retryTriggerFile() async throws {
        let (dnsmasq, resolver) = try await Self.dns()
        defer { dnsmasq.stop() }
        let mx = try await FakeMX.start(ip: "127.0.0.2", port: 0)
        let harness = try DeliveryHarness(dns: resolver, port: mx.port,
                                          schedule: RetrySchedule(delays: [.seconds(3600)], giveUpAfter: .seconds(86400)))
        let id = try await harness.enqueue(from: "sender@local.test", to: ["later@multi.test"])
        #expect(await DeliveryHarness.waitUntil { (await harness.meta(id))?.recipients[0].attempts == 1 })
        let next = try #require(await harness.meta(id)?.nextAttempt)
        #expect(next.timeIntervalSinceNow > 3000)
        mx.setBehavior { $0.rcpt = { _ in "250 2.1.5 Ok" } }
        _ = FileManager.default.createFile(atPath: harness.root + "/state/retry/" + id, contents: Data())
        #expect(await DeliveryHarness.waitUntil(5) { harness.queueIDs().isEmpty })
        #expect(mx.received.count == 1)
        await harness.stop()
        await mx.stop()
    }
}

/// Plain delivery to Postfix's `smtp-sink` (Debian package postfix), a real SMTP implementation that
/// offers no STARTTLS: sent in plaintext, recorded as `plain`.
@Suite struct SMTPSinkTests {
    static let binary = "/usr/sbin/smtp-sink"

    @Test func plainDeliveryToSMTPSink() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: SMTPSinkTests.binary),
                     "smtp-sink is missing: install the Debian package postfix (scripts/test does)")
        let (dnsmasq, resolver) = try await RemoteDeliveryTests.dns(["--mx-host=sink.test,mx.sink.test,10",
                                                                     "--host-record=mx.sink.test,127.0.0.9"])
        defer { dnsmasq.stop() }
        // posix_spawn with an empty signal mask (a child would inherit the test runner's blocked signals). When
        // smtp-sink does not answer (its port was taken meanwhile), another instance on another port.
        var results: [RecipientResult] = []
        var levels: [TLSLevel] = []
        for _ in 0..<5 where results.first?.outcome != .sent {
            let port = try await TLSDeliveryTests.freePort(ip: "127.0.0.9")
            let pid = try Dnsmasq.spawn([Self.binary, "-u", "nobody", "127.0.0.9:\(port)", "10"], path: Self.binary)
            let harness = try DeliveryHarness(dns: resolver, port: port)
            for _ in 0..<30 {
                results = await harness.courier.deliver(domain: "sink.test", mailFrom: "a@local.test",
                                                        recipients: ["one@sink.test", "two@sink.test"],
                                                        message: ByteBuffer(string: "Subject: sink\r\n\r\nbody\r\n"),
                                                        smtputf8: false)
                if results.first?.outcome == .sent { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            levels.append(await harness.tlsLevels.level(for: "sink.test"))
            await harness.stop()
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        #expect(results.map(\.outcome) == [.sent, .sent], "\(results)")
        #expect(results.first?.tls == nil)
        #expect(results.first?.reply.hasPrefix("250") == true)
        #expect(levels.last == .plain)
    }
}
