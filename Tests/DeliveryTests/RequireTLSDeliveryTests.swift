import Delivery
import Foundation
import MailQueue
import NIOCore
import Testing

/// REQUIRETLS (RFC 8689) on loopback with real peers: python smtplib against a receiving Apus (refused
/// without TLS with the reply code, accepted after STARTTLS), delivery of a REQUIRETLS message to an MX that
/// offers REQUIRETLS over verified TLS (a second Apus, its certificate trusted through `ca_file`), and the
/// bounce (5.7.30, at the first attempt, not retried) when the MX offers no STARTTLS or its certificate
/// cannot be verified. `TLS-Required: No` lets a message past an enforced MTA-STS policy.
@Suite struct RequireTLSDeliveryTests {
    static let client = #"""
import smtplib, ssl, sys
host, port = sys.argv[1], int(sys.argv[2])
s = smtplib.SMTP(host, port, timeout=10)
s.ehlo("client.test")
print("before-tls-advertised", s.has_extn("requiretls"))
code, text = s.mail("alice@client.test", ["REQUIRETLS"])
print("plain", code, text.decode().split(" ")[0])
s.rset()
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s.starttls(context=ctx)
s.ehlo("client.test")
print("after-tls-advertised", s.has_extn("requiretls"))
code, text = s.mail("alice@client.test", ["REQUIRETLS"])
print("tls", code, text.decode().split(" ")[0])
code, _ = s.rcpt("bob@" + sys.argv[3])
code, text = s.data(b"Subject: secret\r\n\r\nonly over TLS\r\n")
print("data", code)
s.quit()
"""#

    @Test func smtplibRequireTLSNeedsTLS() async throws {
        let dnsmasq = try await Dnsmasq.start(["--host-record=mx.rtls-in.test,127.0.0.76"])
        defer { dnsmasq.stop() }
        let peer = try await TLSDeliveryTests.Peer(ip: "127.0.0.76", dns: dnsmasq.address, domain: "rtls-in.test")
        defer { peer.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.client, "127.0.0.76", String(peer.port), "rtls-in.test"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains("before-tls-advertised False\n"), "\(text)")
        #expect(text.contains("plain 530 5.7.10\n"), "\(text)")
        #expect(text.contains("after-tls-advertised True\n"), "\(text)")
        #expect(text.contains("tls 250 2.1.0\n"), "\(text)")
        #expect(text.contains("data 250\n"), "\(text)")
        #expect(await DeliveryHarness.waitUntil(5) { peer.mailbox("bob").count == 1 })
        await peer.stop()
    }

    @Test func deliveredOverVerifiedTLSElseBounced() async throws {
        let dnsmasq = try await Dnsmasq.start([
            "--mx-host=rtls.test,mx.rtls.test,10", "--host-record=mx.rtls.test,127.0.0.77",
            "--mx-host=plain-rtls.test,mx.plain-rtls.test,10", "--host-record=mx.plain-rtls.test,127.0.0.78",
        ])
        defer { dnsmasq.stop() }
        let resolver = dnsmasq.resolver(timeout: .seconds(1))
        let peer = try await TLSDeliveryTests.Peer(ip: "127.0.0.77", dns: dnsmasq.address, domain: "rtls.test")
        defer { peer.remove() }
        let plainMX = try await FakeMX.start(ip: "127.0.0.78", port: peer.port)
        let hourly = RetrySchedule(delays: [.seconds(3600)], giveUpAfter: .seconds(7200))

        let trusted = try DeliveryHarness(dns: resolver, port: peer.port, caFile: peer.caFile, schedule: hourly)
        let sent = try await trusted.enqueue(from: "a@local.test", to: ["bob@rtls.test"], requireTLS: true)
        let bounced = try await trusted.enqueue(from: "a@local.test", to: ["x@plain-rtls.test"], requireTLS: true)
        #expect(await DeliveryHarness.waitUntil(15) {
            let sentDone = await trusted.meta(sent) == nil
            let bouncedDone = await trusted.meta(bounced) == nil
            return sentDone && bouncedDone && trusted.maildir("a").count == 1
        })
        #expect(peer.mailbox("bob").count == 1)
        #expect(plainMX.received.isEmpty)
        let dsn = try #require(trusted.maildir("a").first)
        #expect(dsn.contains("Status: 5.7.30"), "\(dsn)")
        #expect(dsn.contains("REQUIRETLS"), "\(dsn)")
        await trusted.stop()

        // The same MX with a certificate we cannot verify: not good enough for REQUIRETLS either.
        let untrusted = try DeliveryHarness(dns: resolver, port: peer.port, schedule: hourly)
        let unverified = try await untrusted.enqueue(from: "a@local.test", to: ["bob@rtls.test"], requireTLS: true)
        #expect(await DeliveryHarness.waitUntil(15) {
            let done = await untrusted.meta(unverified) == nil
            return done && untrusted.maildir("a").count == 1
        })
        #expect(untrusted.maildir("a").first?.contains("Status: 5.7.30") == true)
        #expect(peer.mailbox("bob").count == 1)
        await untrusted.stop()

        await peer.stop()
        await plainMX.stop()
    }

    @Test func tlsRequiredNoPassesAnEnforcedPolicy() async throws {
        let dir = NSTemporaryDirectory() + "apus-tlsreq-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (https, policyCA) = try await MTASTSTests.policyServer(
            ip: "127.0.0.80", hostname: "mta-sts.nosts.test",
            body: "version: STSv1\nmode: enforce\nmx: mx.nosts.test\nmax_age: 86400\n", directory: dir)
        let dnsmasq = try await Dnsmasq.start([
            "--mx-host=nosts.test,mx.nosts.test,10", "--host-record=mx.nosts.test,127.0.0.79",
            "--host-record=mta-sts.nosts.test,127.0.0.80", "--txt-record=_mta-sts.nosts.test,v=STSv1; id=1",
        ])
        defer { dnsmasq.stop() }
        let plainMX = try await FakeMX.start(ip: "127.0.0.79", port: 0)
        let harness = try DeliveryHarness(dns: dnsmasq.resolver(timeout: .seconds(1)), port: plainMX.port, caFile: policyCA,
                                          schedule: RetrySchedule(delays: [.seconds(3600)], giveUpAfter: .seconds(7200)),
                                          mtaSTSPort: https.localAddress!.port!)
        let held = try await harness.enqueue(from: "a@local.test", to: ["x@nosts.test"], subject: "enforced")
        try await harness.enqueue(from: "a@local.test", to: ["y@nosts.test"], subject: "anyway",
                                  headers: "TLS-Required: No\r\n")
        #expect(await DeliveryHarness.waitUntil(15) { plainMX.received.count == 1 })
        #expect(plainMX.received.first?.recipients == ["y@nosts.test"])
        #expect(await harness.meta(held)?.recipients.first?.state == .pending)   // enforce still holds the other
        await harness.stop()
        await plainMX.stop()
        try? await https.close()
    }
}
