import Foundation
import Testing
import TestSupport

/// The systemd permission model of docs/install.md, end to end: `apus init` run as root, the configuration
/// made root:GROUP with directories 0750 and files 0640, the data directory given to the server's user, and
/// `apus serve` run as that user (`nobody`/`nogroup` stand in for `apus`; setpriv does what the unit's
/// User=/Group= do). Then, with the server running unprivileged:
///   (a) a submission with Python's smtplib is delivered (and DKIM-signed);
///   (b) `apus sendmail` run as root queues a message the server can read and deliver;
///   (c) `apus dkim keygen` run as root makes a key the server reloads and signs with;
///   (d) a queue file root wrote before the fix is reported once, with the fix, and a key file only root can
///       read is reported with its owner and mode and the user the server runs as.
/// Needs root (the suite runs as root in CI), setpriv and /usr/bin/python3.
@Suite struct UnprivilegedServeTests {
    /// argv: port, subject. Submits one message from alice to alice over STARTTLS (unverified) with AUTH.
    static let submit = """
        import sys, time, socket, ssl, smtplib
        port, subject = int(sys.argv[1]), sys.argv[2]
        for _ in range(300):
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close(); break
            except OSError:
                time.sleep(0.1)
        context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP('127.0.0.1', port, timeout=30) as s:
            s.starttls(context=context)
            s.login('alice@example.test', 'unprivileged-pw')
            s.sendmail('alice@example.test', ['alice@example.test'],
                       'From: alice@example.test\\r\\nTo: alice@example.test\\r\\nSubject: ' + subject + '\\r\\n'
                       'Message-ID: <' + subject.replace(' ', '-') + '@example.test>\\r\\n\\r\\nHello.\\r\\n')
        """

    static let python = "/usr/bin/python3"

    @Test func serverRunningAsAnotherUserReadsWhatRootWrites() async throws {
        try #require(geteuid() == 0, "UnprivilegedServeTests runs apus serve as nobody: run the test suite as root")
        // getpwnam and getgrgid answer in static storage that other tests' calls overwrite: copy at once.
        let nobody = try #require(getpwnam("nobody"), "no user nobody on this system").pointee
        let (uid, gid, user) = (nobody.pw_uid, nobody.pw_gid, String(cString: nobody.pw_name))
        let group = String(cString: try #require(getgrgid(gid)).pointee.gr_name)
        let apus = try #require(ApusProcess.apus, "build the apus executable first (swift build --build-tests)")
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try #require(chmod(root, 0o755) == 0)   // nobody must reach the two directories below
        let (config, data, log) = ("\(root)/config", "\(root)/data", "\(root)/serve.log")
        let mailbox = "\(data)/mail/example.test/alice/new"

        // As root, as install.md step 3 does.
        let setUp = try await ApusProcess.run(["init", "example.test", "--config", config, "--data-dir", data,
                                               "--user", "alice", "--password", "unprivileged-pw", "--scrypt-log-n", "4"])
        try #require(setUp.status == 0, "\(setUp.err)")
        let ports = try InitServeTests.freePorts(3)
        try ApusProcess.setConfigKeys(ApusProcess.loopbackListeners(
            [("mx", ports[0]), ("submission", ports[1]), ("submissions", ports[2]), ("admin", nil)]), configDirectory: config)

        // A queue file as `apus sendmail` wrote it before the fix: root's, mode 0600.
        try FileManager.default.createDirectory(atPath: "\(data)/queue", withIntermediateDirectories: true)
        let stuck = "\(data)/queue/\(String(repeating: "0", count: 8))0badf11e.msg"
        #expect(FileManager.default.createFile(atPath: stuck, contents: Data("APUS-QUEUE 1\n".utf8),
                                               attributes: [.posixPermissions: 0o600]))

        // "Ownership and permissions": the configuration root:GROUP, u=rwX,g=rX,o=; the data to the user.
        for command in [["/bin/chown", "-R", "0:\(gid)", config], ["/bin/chmod", "-R", "u=rwX,g=rX,o=", config],
                        ["/bin/chown", "-R", "\(uid):\(gid)", data], ["/bin/chown", "0:0", stuck]] {
            let result = try await ApusProcess.runProgram(command[0], Array(command.dropFirst()))
            try #require(result.status == 0, "\(command): \(result.err)")
        }

        // The server as nobody, with an empty signal mask so that SIGTERM stops it; its log in `log`.
        let pid = try Dnsmasq.spawn(["/bin/sh", "-c", "exec setpriv --reuid=\(uid) --regid=\(gid) --clear-groups \"$0\" serve --config \"$1\" 2>\"$2\"",
                                     apus, config, log], path: "/bin/sh")
        defer { stopProcess(pid) }

        // (a) A submission, delivered and signed with init's two keys.
        try await Self.send(port: ports[1], subject: "first")
        var delivered = try await Self.waitForMessages(1, in: mailbox, log: log)
        #expect(delivered.last.map { Self.selectors($0) } == ["apus-ed25519", "apus-rsa"])

        // (b) `apus sendmail` as root: the server reads the queue file and delivers it.
        let sendmail = try await ApusProcess.run(["sendmail", "--config", config, "alice@example.test"],
                                                 input: "Subject: from cron\n\nHello from root.\n")
        #expect(sendmail.status == 0, "\(sendmail.err)")
        delivered = try await Self.waitForMessages(2, in: mailbox, log: log)
        #expect(delivered.last?.contains("Subject: from cron") == true)

        // (c) `apus dkim keygen` as root: the server reloads without error and signs with the new key too.
        let reloads = try Self.count("reloaded users", in: log)
        let keygen = try await ApusProcess.run(["dkim", "keygen", "example.test", "--selector", "extra", "--config", config])
        #expect(keygen.status == 0, "\(keygen.err)")
        let key = "\(config)/domains/example.test/dkim/extra.pem"
        var info = stat()
        #expect(stat(key, &info) == 0 && info.st_uid == 0 && info.st_gid == gid && info.st_mode & 0o7777 == 0o640)
        try await Self.waitFor("a reload after keygen", log: log) { try Self.count("reloaded users", in: log) > reloads }
        try await Self.send(port: ports[1], subject: "after keygen")
        delivered = try await Self.waitForMessages(3, in: mailbox, log: log)
        #expect(delivered.last.map { Self.selectors($0) } == ["apus-ed25519", "apus-rsa", "extra"])

        // (d) The old root-only queue file: reported once, with the fix. A key file only root can read: the
        // domain's mail goes unsigned, and the log says which file, whose it is and what to do.
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(try Self.count("written by another user? chown it to the owner of \(data)/queue", in: log) == 1, "\(text)")
        #expect(text.contains("queue: skipping \(stuck): cannot read: Permission denied (root:root 0600)"), "\(text)")
        #expect(!text.contains("reload failed"), "\(text)")
        #expect(!text.contains("not usable"), "\(text)")

        let bad = "\(config)/domains/example.test/dkim/zz-root-only.pem"
        let pem = try #require(FileManager.default.contents(atPath: key))
        try #require(FileManager.default.createFile(atPath: bad, contents: pem, attributes: [.posixPermissions: 0o600]))
        try #require(chown(bad, 0, 0) == 0)
        let before = try Self.count("reloaded users", in: log)
        try await Self.waitFor("a reload after the root-only key", log: log) { try Self.count("reloaded users", in: log) > before }
        try await Self.send(port: ports[1], subject: "root only key")
        delivered = try await Self.waitForMessages(4, in: mailbox, log: log)
        let complaint = "\(bad): cannot read: permission denied (root:root 0600; the server runs as \(user), group \(group))"
        let after = try String(contentsOfFile: log, encoding: .utf8)
        #expect(after.contains(complaint), "\(after)")
    }

    static func send(port: Int, subject: String) async throws {
        let result = try await ApusProcess.runProgram(python, ["-c", submit, String(port), subject])
        try #require(result.status == 0, "smtplib (\(subject)): \(result.err)")
    }

    /// The messages in the mailbox, oldest first, once there are `count` of them (at most ~15 s).
    static func waitForMessages(_ count: Int, in mailbox: String, log: String) async throws -> [String] {
        var files: [String] = []
        try await waitFor("\(count) message(s) in \(mailbox)", log: log) {
            files = ((try? FileManager.default.contentsOfDirectory(atPath: mailbox)) ?? []).sorted()
            return files.count >= count
        }
        return try files.map { try String(contentsOfFile: "\(mailbox)/\($0)", encoding: .utf8) }
            .sorted { Self.subjectOrder($0) < Self.subjectOrder($1) }
    }

    /// Maildir names start with the delivery time in seconds: two deliveries in the same second sort by the
    /// order of the test's steps instead.
    static func subjectOrder(_ message: String) -> Int {
        ["Subject: first", "Subject: from cron", "Subject: after keygen", "Subject: root only key"]
            .firstIndex { message.contains($0) } ?? 99
    }

    static func waitFor(_ what: String, log: String, _ condition: () throws -> Bool) async throws {
        for _ in 0..<150 {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? "(no log)"
        Issue.record("timed out waiting for \(what); server log:\n\(text)")
        throw CancellationError()
    }

    static func count(_ needle: String, in log: String) throws -> Int {
        try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: needle).count - 1
    }

    /// The `s=` of each DKIM-Signature field, sorted.
    static func selectors(_ message: String) -> [String] {
        let header = message.components(separatedBy: "\r\n\r\n").first ?? ""
        return header.components(separatedBy: "DKIM-Signature:").dropFirst().compactMap { field in
            field.split(separator: ";").lazy.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .first { $0.hasPrefix("s=") }.map { String($0.dropFirst(2)) }
        }.sorted()
    }
}
