import Foundation
import TestSupport
import Testing

/// `apus send` against `apus serve` (from `apus init`'s configuration, on loopback ports): submission with
/// STARTTLS and AUTH, the certificate verified against the name given with --tls-name; an IP address
/// without --tls-name is refused before connecting; the message reaches the Maildir.
@Suite struct SendCommandTests {
    @Test func sendsWithVerifiedTLSAndRefusesAnUnnamedIP() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = "\(root)/config"
        let setUp = try await ApusProcess.run(["init", "example.com", "--config", config, "--data-dir", "\(root)/data",
                                               "--user", "alice", "--password", "send-test-pw", "--scrypt-log-n", "4"])
        try #require(setUp.status == 0, "\(setUp.err)")
        let ports = try InitServeTests.freePorts(2)
        try ApusProcess.setConfigKeys(ApusProcess.loopbackListeners(
            [("mx", nil), ("submission", ports[0]), ("submissions", ports[1]), ("admin", nil)]), configDirectory: config)
        let pid = try Dnsmasq.spawn([try #require(ApusProcess.apus), "serve", "--config", config],
                                    path: try #require(ApusProcess.apus))
        defer { stopProcess(pid) }
        try #require(CheckCommandTests.World.waitForPort("127.0.0.1", ports[0]))

        let certificate = "\(config)/certs/mx.example.com/fullchain.pem"
        let common = ["send", "--from", "alice@example.com", "--to", "alice@example.com",
                      "--user", "alice@example.com", "--password", "send-test-pw", "--timeout", "20"]

        let unnamed = try await ApusProcess.run(common + ["--server", "127.0.0.1:\(ports[0])", "--ca-file", certificate])
        #expect(unnamed.status != 0)
        #expect(unnamed.err.contains("is an IP address: give the name its certificate is for with --tls-name NAME"), "\(unnamed.err)")

        let wrongName = try await ApusProcess.run(common + ["--server", "127.0.0.1:\(ports[0])", "--ca-file", certificate,
                                                            "--tls-name", "other.example.net"])
        #expect(wrongName.status != 0, "a certificate for mx.example.com accepted as other.example.net: \(wrongName.out)")

        let sent = try await ApusProcess.run(common + ["--server", "127.0.0.1:\(ports[0])", "--ca-file", certificate,
                                                       "--tls-name", "mx.example.com", "--subject", "verified"])
        #expect(sent.status == 0, "\(sent.out)\(sent.err)")
        #expect(sent.out.contains("TLS established"), "\(sent.out)")
        #expect(sent.out.contains("<- 250 2.0.0 Ok: queued as"), "\(sent.out)")

        let implicit = try await ApusProcess.run(common + ["--server", "127.0.0.1:\(ports[1])", "--tls", "implicit",
                                                           "--insecure", "--subject", "implicit"])
        #expect(implicit.status == 0, "\(implicit.out)\(implicit.err)")

        let maildir = "\(root)/data/mail/example.com/alice/new"
        var subjects: [String] = []
        for _ in 0..<100 {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []
            subjects = files.compactMap { try? String(contentsOfFile: "\(maildir)/\($0)", encoding: .utf8) }
                .compactMap { $0.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") } }
            if subjects.count >= 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(subjects.sorted() == ["Subject: implicit", "Subject: verified"])
    }
}
