import Foundation
import TestSupport
import Testing

/// `apus import chasquid` against a setup written by Debian's real chasquid-util and a queue item written by
/// the real chasquid daemon (DESIGN.md §3b, issue 15).
@Suite(.serialized) struct ImportChasquidTests {
    static let domain = ChasquidSource.domain

    /// One run through: chasquid queues a message it cannot deliver; the import brings everything over;
    /// passwords, aliases and the DKIM key work in Apus; a second run changes nothing; Apus delivers the
    /// imported message to the remote sink and the local mailboxes.
    @Test func importsAChasquidSetupWithItsQueueAndDeliversIt() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let source = try await ChasquidSource.make(root: root)

        // 1. The real chasquid accepts a message for a forward (unreachable), the catch-all and a user. No
        //    other chasquid runs: the package's postinst must not have started the system one.
        #expect(Self.runningChasquids().isEmpty, "a chasquid runs already (pids \(Self.runningChasquids())): install the package with a policy-rc.d that says no, as scripts/test does")
        let chasquid = try source.startDaemon()
        var stopped = false
        defer { if !stopped { stopProcess(chasquid) } }
        try await Self.send(port: source.ports[0], to: ["fwd@\(Self.domain)", "nobody@\(Self.domain)", "alice@\(Self.domain)"])
        // The item is complete once it lists the three resolved recipients (chasquid writes it whole, by
        // rename, before its first delivery attempt; how soon that attempt fails depends on the DNS here).
        var item = ""
        for _ in 0..<200 {
            if let name = source.queueFiles.first, let text = try? String(contentsOfFile: "\(source.data)/queue/\(name)", encoding: .utf8),
               text.components(separatedBy: "original_address:").count == 4 {
                item = text
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        stopProcess(chasquid)
        stopped = true
        try #require(!item.isEmpty, "chasquid did not queue the message: \(source.queueFiles)")
        // chasquid's own answer for the catch-all, from its queue item: nobody@ went to bob.
        #expect(item.contains("address: \"bob@\(Self.domain)\"") && item.contains("original_address: \"nobody@\(Self.domain)\""), "\(item)")

        // 2. Import (a dry run first: it writes nothing).
        let config = "\(root)/apus", data = "\(root)/apus-data"
        let common = ["import", "chasquid", source.config, "--config", config, "--data-dir", data]
        let dry = try await ApusProcess.run(common + ["--dry-run"])
        #expect(dry.status == 0, "\(dry.out)\(dry.err)")
        #expect(dry.out.contains("would create") && dry.out.contains("would import 1 (3 recipients pending)"), "\(dry.out)")
        #expect(!FileManager.default.fileExists(atPath: config) && !FileManager.default.fileExists(atPath: data))

        let first = try await ApusProcess.run(common)
        #expect(first.status == 0, "\(first.out)\(first.err)")
        for row in ["settings", "users of \(Self.domain)", "aliases of \(Self.domain)", "DKIM key \(ChasquidSource.selector)._domainkey",
                    "certificate mx.\(Self.domain)", "imported 1 (3 recipients pending)", "Next steps:", "systemctl disable --now chasquid",
                    "apus check \(Self.domain)", "Not imported:", "hooks/"] where !first.out.contains(row) {
            Issue.record("no \"\(row)\" in the summary:\n\(first.out)")
        }
        let toml = try String(contentsOfFile: "\(config)/apus.toml", encoding: .utf8)
        for line in ["hostname = \"mx.\(Self.domain)\"", "mx = [\"127.0.0.1:\(source.ports[0])\"]", "max_message_bytes = 20971520",
                     "suffix_separators = \"+-\"", "drop_characters = \"._\"", "admin = [\"127.0.0.1:\(source.ports[3])\"]",
                     "mda = \"\(root)/mda -f \\\"$SENDER\\\" -d \\\"$USER\\\"\""] where !toml.contains(line) {
            Issue.record("apus.toml lacks \(line)")
        }

        // 3. Every password works as it did in chasquid, a wrong one does not.
        for user in ChasquidSource.users {
            let address = "\(user.name)@\(Self.domain)"
            try await source.util(["authenticate", address, "--password=\(user.password)"])
            let ok = try await ApusProcess.run(["authenticate", address, "--config", config, "--password", user.password])
            #expect(ok.status == 0 && ok.out.contains("Authentication succeeded"), "\(address): \(ok.out)\(ok.err)")
            let wrong = try await ApusProcess.run(["authenticate", address, "--config", config, "--password", user.password + "x"])
            #expect(wrong.status == 1 && wrong.out.contains("Authentication failed"), "\(address): \(wrong.out)")
        }

        // 4. Aliases resolve as chasquid-util resolves them (the catch-all as the chasquid daemon did, above).
        for local in ["info", "alice", "al.ice", "alice+tag", "a_lice-news", "team", "fwd", "carol", "Info"] {
            let address = "\(local)@\(Self.domain)"
            let theirs = try await Self.chasquidResolve(source, address)
            let ours = try await ApusProcess.run(["alias", "resolve", address, "--config", config])
            #expect(ours.status == 0, "\(address): \(ours.err)")
            #expect(Set(ours.out.split(separator: "\n").map(String.init)) == theirs, "\(address): apus \(ours.out) chasquid \(theirs)")
        }
        let catchAll = try await ApusProcess.run(["alias", "resolve", "nobody@\(Self.domain)", "--config", config])
        #expect(catchAll.out == "local bob@\(Self.domain)\n", "\(catchAll.out)\(catchAll.err)")

        // 5. A message Apus signs verifies against the TXT record made from chasquid's key.
        try await Self.checkDKIM(source: source, config: config)

        // 6. A second run changes nothing; a changed file is kept unless --force.
        let again = try await ApusProcess.run(common)
        #expect(again.status == 0, "\(again.err)")
        #expect(!again.out.contains("created") && again.out.contains("unchanged") && again.out.contains("1 already imported"), "\(again.out)")
        let users = "\(config)/domains/\(Self.domain)/users"
        let original = try String(contentsOfFile: users, encoding: .utf8)
        try (original + "dave  $scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g\n")
            .write(toFile: users, atomically: true, encoding: .utf8)
        let refused = try await ApusProcess.run(common)
        #expect(refused.status != 0 && refused.err.contains(users) && refused.err.contains("--force"), "\(refused.err)")
        #expect(try String(contentsOfFile: users, encoding: .utf8).contains("dave"))
        let forced = try await ApusProcess.run(common + ["--force"])
        #expect(forced.status == 0 && forced.out.contains("replaced"), "\(forced.out)\(forced.err)")
        #expect(try String(contentsOfFile: users, encoding: .utf8) == original)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(data)/queue").filter { $0.hasSuffix(".msg") }.count == 1)

        // 7. Apus delivers the imported message: the forward to the remote sink, the rest through the MDA.
        try await Self.deliver(source: source, config: config, data: data)

        // 8. Importing again after the delivery does not queue the message a second time.
        let after = try await ApusProcess.run(common + ["--force"])
        #expect(after.status == 0 && after.out.contains("imported 0 (0 recipients pending), 1 already imported"), "\(after.out)\(after.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(data)/queue").filter { $0.hasSuffix(".msg") }.isEmpty)
    }

    /// Live processes named chasquid (`/proc/PID/stat`: "PID (comm) STATE …"; zombies left out).
    static func runningChasquids() -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.filter { pid in
            guard pid.allSatisfy(\.isNumber), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
            return stat.contains(" (chasquid) ") && !stat.contains(" (chasquid) Z")
        }
    }

    /// `chasquid-util aliases-resolve` as `apus alias resolve` lines.
    static func chasquidResolve(_ source: ChasquidSource, _ address: String) async throws -> Set<String> {
        let out = try await source.util(["aliases-resolve", address])
        var lines: Set<String> = []
        for line in out.split(separator: "\n") where line.hasPrefix("(") {
            let parts = line.split(separator: " ", maxSplits: 1)
            let target = parts[1].trimmingCharacters(in: .whitespaces)
            switch parts[0] {
            case "(email)": lines.insert(target.hasSuffix("@\(domain)") ? "local \(target)" : "forward \(target)")
            case "(pipe)": lines.insert("pipe \(target)")
            default: Issue.record("unknown chasquid-util line \(line)")
            }
        }
        return lines
    }

    static func send(port: Int, to recipients: [String]) async throws {
        let script = """
            import smtplib, sys
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
            s.sendmail('sender@outside.test', sys.argv[2:], b'From: sender@outside.test\\r\\nTo: fwd@example.test\\r\\n'
                       b'Subject: queued in chasquid\\r\\n\\r\\nHello from chasquid.\\r\\n')
            s.quit()
            """
        try await ChasquidSource.run("/usr/bin/python3", ["-c", script, String(port)] + recipients)
    }
}
