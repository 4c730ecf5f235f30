import Foundation
import TestSupport
import Testing

/// `apus tls-report send --now` against a running `apus serve`: a message to remote.test (its MX a Postfix
/// smtp-sink without STARTTLS, `_smtp._tls.remote.test` asking for reports at a local address) is delivered;
/// then the command makes the server queue the report, which arrives in the local mailbox: gzip'd JSON with
/// one `starttls-not-supported` session for mx.remote.test and no policy.
@Suite struct TLSReportCommandTests {
    static let reader = #"""
import email, gzip, json, sys
msg = email.message_from_bytes(sys.stdin.buffer.read())
for part in msg.get_payload():
    if part.get_content_type() == "application/tlsrpt+gzip":
        r = json.loads(gzip.decompress(part.get_payload(decode=True)))
        p = r["policies"][0]
        d = p["failure-details"][0]
        print(msg["TLS-Report-Domain"], p["policy"]["policy-type"], p["summary"]["total-successful-session-count"],
              p["summary"]["total-failure-session-count"], d["result-type"], d["receiving-mx-hostname"], d["failed-session-count"])
"""#

    @Test func sendNowQueuesTheReport() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = "\(root)/config", data = "\(root)/data"
        let initialized = try await ApusProcess.run(["init", "example.test", "--hostname", "mx.example.test", "--config", config,
                                                     "--data-dir", data, "--scrypt-log-n", "4"])
        try #require(initialized.status == 0, "\(initialized.err)")
        let dnsmasq = try await Dnsmasq.start([
            "--mx-host=remote.test,mx.remote.test,10", "--host-record=mx.remote.test,127.0.0.1",
            "--txt-record=_smtp._tls.remote.test,v=TLSRPTv1; rua=mailto:tlsrpt@example.test",
        ])
        defer { dnsmasq.stop() }
        let ports = try InitServeTests.freePorts(4)
        let dump = "\(root)/sink"
        try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
        chmod(dump, 0o777)
        let sink = try Dnsmasq.spawn(["smtp-sink", "-u", "nobody", "-d", "\(dump)/%M.", "127.0.0.1:\(ports[0])", "10"],
                                     path: "/usr/sbin/smtp-sink")
        defer { stopProcess(sink) }
        try ApusProcess.setConfigKeys(ApusProcess.loopbackListeners([("mx", ports[1]), ("submission", ports[2]),
                                                                     ("submissions", ports[3]), ("admin", nil)])
                                      + [("servers", "[\"\(dnsmasq.address)\"]"), ("smtp_port", String(ports[0]))],
                                      configDirectory: config)
        let apus = try #require(ApusProcess.apus)
        let server = try Dnsmasq.spawn(["/bin/sh", "-c", "exec \"$0\" serve --config \"$1\" 2>\"$2\"", apus, config, "\(root)/apus.log"],
                                       path: "/bin/sh")
        defer { stopProcess(server) }
        try #require(CheckCommandTests.World.waitForPort("127.0.0.1", ports[1]))

        let sent = try await ApusProcess.run(["sendmail", "--config", config, "-f", "alice@example.test", "someone@remote.test"],
                                             input: "Subject: counted\n\nHello.\n")
        #expect(sent.status == 0, "\(sent.err)")
        for _ in 0..<200 where ((try? FileManager.default.contentsOfDirectory(atPath: dump)) ?? []).isEmpty {
            try await Task.sleep(for: .milliseconds(100))
        }
        let log = { (try? String(contentsOfFile: "\(root)/apus.log", encoding: .utf8)) ?? "" }
        try #require(!((try? FileManager.default.contentsOfDirectory(atPath: dump)) ?? []).isEmpty, "nothing reached the sink: \(log())")

        let report = try await ApusProcess.run(["tls-report", "send", "--now", "--config", config])
        #expect(report.status == 0, "\(report.out)\(report.err)\n\(log())")
        let mailbox = "\(data)/mail/example.test/tlsrpt/new"
        for _ in 0..<100 where ((try? FileManager.default.contentsOfDirectory(atPath: mailbox)) ?? []).isEmpty {
            try await Task.sleep(for: .milliseconds(100))
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: mailbox)) ?? []
        try #require(files.count == 1, "no report in \(mailbox): \(log())")
        let message = try String(contentsOfFile: "\(mailbox)/\(files[0])", encoding: .utf8)
        #expect(message.contains("DKIM-Signature:"), "the report is signed for example.test")
        let parsed = try await ApusProcess.runProgram("/usr/bin/python3", ["-c", Self.reader], input: message)
        #expect(parsed.out == "remote.test no-policy-found 0 1 starttls-not-supported mx.remote.test 1\n", "\(parsed.out)\(parsed.err)")
        #expect(log().contains("tls-report=remote.test"))

        // Without --now it explains itself and does nothing.
        let bare = try await ApusProcess.run(["tls-report", "send", "--config", config])
        #expect(bare.status != 0 && bare.err.contains("--now"))
    }
}
