import Foundation
import TestSupport
import Testing

extension ImportChasquidTests {
    /// `apus dkim sign` with the imported key; dkimpy verifies it against `v=DKIM1; k=rsa; p=…` computed by
    /// openssl from chasquid's own key file, i.e. the record already published for chasquid.
    static func checkDKIM(source: ChasquidSource, config: String) async throws {
        let der = try await ApusProcess.runProgram("/bin/sh", ["-c", "openssl pkey -in \"$0\" -pubout -outform DER | base64 -w0", source.dkimKey])
        try #require(der.status == 0 && !der.out.isEmpty, "\(der.err)")
        let txt = "v=DKIM1; k=rsa; p=\(der.out.trimmingCharacters(in: .whitespacesAndNewlines))"
        let message = "From: alice@\(domain)\r\nTo: someone@remote.test\r\nSubject: signed\r\nDate: Sat, 05 Dec 2026 12:00:00 +0000\r\n\r\nHi.\r\n"
        let signed = try await ApusProcess.run(["dkim", "sign", domain, "--selector", ChasquidSource.selector, "--config", config], input: message)
        #expect(signed.status == 0 && signed.out.hasPrefix("DKIM-Signature:"), "\(signed.err)")
        let script = """
            import sys, dkim
            txt = sys.argv[1].encode()
            def dnsfunc(name, timeout=5):
                return txt if name.decode().rstrip('.') == sys.argv[2] else None
            print(dkim.verify(sys.stdin.buffer.read(), dnsfunc=dnsfunc))
            """
        let verified = try await ApusProcess.runProgram("/usr/bin/python3", ["-c", script, txt, "\(ChasquidSource.selector)._domainkey.\(domain)"],
                                                        input: signed.out)
        #expect(verified.out == "True\n", "dkimpy: \(verified.out)\(verified.err)")
    }

    /// Starts `apus serve` on the imported configuration (chasquid's ports, now free), with remote.test's MX
    /// on a Postfix smtp-sink, and waits for the imported message to reach it and the local mailboxes.
    static func deliver(source: ChasquidSource, config: String, data: String) async throws {
        let dnsmasq = try await Dnsmasq.start(["--mx-host=remote.test,mx.remote.test,10", "--host-record=mx.remote.test,127.0.0.1"])
        defer { dnsmasq.stop() }
        let sinkPort = try InitServeTests.freePorts(1)[0]
        let dump = "\(source.root)/sink"
        try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
        chmod(dump, 0o777)
        let sinkBinary = ["/usr/sbin/smtp-sink", "/usr/lib/postfix/sbin/smtp-sink"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let sink = try Dnsmasq.spawn(["smtp-sink", "-u", "nobody", "-d", "\(dump)/%M.", "127.0.0.1:\(sinkPort)", "10"],
                                     path: try #require(sinkBinary, "install Debian's postfix (smtp-sink)"))
        defer { stopProcess(sink) }
        try #require(CheckCommandTests.World.waitForPort("127.0.0.1", sinkPort))
        try ApusProcess.setConfigKeys([("servers", "[\"\(dnsmasq.address)\"]"), ("smtp_port", String(sinkPort))], configDirectory: config)
        source.openMailboxes()

        let apus = try #require(ApusProcess.apus)
        let server = try Dnsmasq.spawn(["/bin/sh", "-c", "exec \"$0\" serve --config \"$1\" 2>\"$2\"", apus, config, "\(source.root)/apus.log"],
                                       path: "/bin/sh")
        defer { stopProcess(server) }
        var dumped: [String] = []
        var mailboxes: [String] = []
        for _ in 0..<300 {
            dumped = (try? FileManager.default.contentsOfDirectory(atPath: dump)) ?? []
            mailboxes = ((try? FileManager.default.contentsOfDirectory(atPath: source.delivered)) ?? []).sorted()
            // The MDA creates its file before it writes it: wait for the content too.
            let written = mailboxes.allSatisfy {
                ((try? String(contentsOfFile: "\(source.delivered)/\($0)", encoding: .utf8)) ?? "").contains("Hello from chasquid.")
            }
            if !dumped.isEmpty && mailboxes.count == 2 && written { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let log = (try? String(contentsOfFile: "\(source.root)/apus.log", encoding: .utf8)) ?? ""
        #expect(dumped.count == 1, "nothing reached the sink; apus log:\n\(log)")
        if let file = dumped.first {
            let text = try String(contentsOfFile: "\(dump)/\(file)", encoding: .utf8)
            #expect(text.contains("someone@remote.test") && text.contains("Subject: queued in chasquid"), "\(text)")
            #expect(text.contains("Hello from chasquid."))
            #expect(text.contains("X-Hooked: yes"), "chasquid's post-data hook did not run: \(text)")
        }
        #expect(mailboxes == ["alice", "bob"], "MDA deliveries: \(mailboxes); apus log:\n\(log)")
        for user in mailboxes {
            let text = try String(contentsOfFile: "\(source.delivered)/\(user)", encoding: .utf8)
            #expect(text.contains("Subject: queued in chasquid"))
        }
        for _ in 0..<50 where ((try? FileManager.default.contentsOfDirectory(atPath: "\(data)/queue")) ?? []).contains(where: { $0.hasSuffix(".msg") }) {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!((try? FileManager.default.contentsOfDirectory(atPath: "\(data)/queue")) ?? []).contains { $0.hasSuffix(".msg") })
    }
}
