import Certificates
import Delivery
import DNSCore
import DNSResolver
import Foundation
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Postfix (Debian package postfix) as the receiving MX, with STARTTLS and a certificate trusted through
/// `ca_file`: the delivery is sent over verified TLS. Postfix runs from a private configuration directory
/// (`postfix -c DIR start-fg`), listening on 127.0.0.10 only, and discards what it accepts.
@Suite struct PostfixTests {
    static let postfix = "/usr/sbin/postfix"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: postfix) && getpwnam("postfix") != nil }

    @Test func verifiedTLSToPostfix() async throws {
        try #require(PostfixTests.available, "Postfix is missing: install the Debian package postfix (scripts/test does)")
        let dnsmasq = try await Dnsmasq.start(["--mx-host=pf.test,mx.pf.test,10", "--host-record=mx.pf.test,127.0.0.10"])
        defer { dnsmasq.stop() }
        let resolver = dnsmasq.resolver(timeout: .seconds(1))
        let port = try await TLSDeliveryTests.freePort(ip: "127.0.0.10")
        let dir = NSTemporaryDirectory() + "apus-pf-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for sub in ["spool", "data"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true)
        }
        let user = getpwnam("postfix")!.pointee
        chown("\(dir)/data", user.pw_uid, user.pw_gid)
        try SelfSignedCertificate.write(hostname: "mx.pf.test", certsDirectory: dir + "/certs")
        let certs = dir + "/certs/mx.pf.test"
        try """
            compatibility_level = 3.6
            queue_directory = \(dir)/spool
            data_directory = \(dir)/data
            myhostname = mx.pf.test
            mydestination = pf.test
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            local_recipient_maps =
            local_transport = discard:
            smtpd_tls_security_level = may
            smtpd_tls_cert_file = \(certs)/fullchain.pem
            smtpd_tls_key_file = \(certs)/privkey.pem
            maillog_file = \(dir)/maillog
            mynetworks = 127.0.0.0/8
            maillog_file_prefixes = \(dir)

            """.write(toFile: dir + "/main.cf", atomically: true, encoding: .utf8)
        // The distribution's master.cf, its port 25 listener replaced by ours.
        let master = try String(contentsOfFile: "/etc/postfix/master.cf", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("smtp ") && $0.contains(" inet ") ? "127.0.0.10:\(port) inet n - n - - smtpd" : String($0) }
            .joined(separator: "\n")
        try master.write(toFile: dir + "/master.cf", atomically: true, encoding: .utf8)

        let pid = try Dnsmasq.spawn([Self.postfix, "-c", dir, "start-fg"], path: Self.postfix)
        defer {
            // SIGTERM to Postfix's master (it stops its children), then reap what we started.
            if let text = try? String(contentsOfFile: dir + "/spool/pid/master.pid", encoding: .utf8),
               let master = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(master, SIGTERM)
            }
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }

        let harness = try DeliveryHarness(dns: resolver, port: port, caFile: certs + "/fullchain.pem")
        var results: [RecipientResult] = []
        for _ in 0..<100 {   // until Postfix listens
            results = await harness.courier.deliver(domain: "pf.test", mailFrom: "a@local.test",
                                                    recipients: ["bob@pf.test", "carol@pf.test"],
                                                    message: ByteBuffer(string: "Subject: to postfix\r\n\r\nhello\r\n"),
                                                    smtputf8: false)
            if results.first?.outcome == .sent { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(results.map(\.outcome) == [.sent, .sent], "\(results)")
        #expect(results.first?.reply.hasPrefix("250 2.0.0 Ok: queued as") == true)
        #expect(results.first?.tls?.hasPrefix("TLSv1.") == true && results.first?.tls?.hasSuffix(" verified") == true,
                "\(results)")
        #expect(await harness.tlsLevels.level(for: "pf.test") == .tlsVerified)
        await harness.stop()
    }
}
