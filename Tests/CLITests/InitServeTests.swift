import Foundation
import Testing

/// From `apus init` to a signed message: the configuration it writes is served by `apus serve` (moved to
/// loopback ports), a message submitted with Python's smtplib is delivered signed with both keys, and dkimpy
/// verifies both signatures against the records `apus dns records` printed, loaded by dnspython.
@Suite struct InitServeTests {
    /// argv: config dir, zone file, maildir, submission port. Sends, waits for delivery, verifies.
    static let script = """
        import sys, time, socket, ssl, smtplib, glob, json, dns.zone, dns.rdatatype, dkim
        config, zonefile, maildir, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
        for _ in range(200):
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close(); break
            except OSError:
                time.sleep(0.1)
        context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP('127.0.0.1', port, timeout=30) as s:
            s.starttls(context=context)
            s.login('alice@example.com', 'init-serve-pw')
            s.sendmail('alice@example.com', ['alice@example.com'],
                       'From: alice@example.com\\r\\nTo: alice@example.com\\r\\nSubject: init test\\r\\n'
                       'Date: Mon, 30 Nov 2026 10:00:00 +0000\\r\\nMessage-ID: <t1@example.com>\\r\\n\\r\\nHello.\\r\\n')
        files = []
        for _ in range(100):
            files = glob.glob(maildir + '/new/*')
            if files: break
            time.sleep(0.1)
        msg = open(files[0], 'rb').read()
        zone = dns.zone.from_text('$ORIGIN example.com.\\n' + open(zonefile).read(), origin='example.com.',
                                  relativize=False, check_origin=False)
        txt = {}
        for name, node in zone.nodes.items():
            for rdataset in node.rdatasets:
                if rdataset.rdtype == dns.rdatatype.TXT:
                    txt[name.to_text()] = b''.join(b''.join(r.strings) for r in rdataset)
        def dnsfunc(q, timeout=5):
            q = q.decode() if isinstance(q, bytes) else q
            return txt.get(q.rstrip('.') + '.')
        d = dkim.DKIM(msg)
        count = sum(1 for h in d.headers if h[0].lower() == b'dkim-signature')
        print(json.dumps([bool(d.verify(idx=i, dnsfunc=dnsfunc)) for i in range(count)]))
        """

    /// Three free loopback ports (bound, read and released: another process could take one meanwhile).
    static func freePorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { for s in sockets { close(s) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            sockets.append(s)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) }
            }
            try #require(bound == 0)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) }
            }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }

    @Test func initConfigurationServesAndSignsVerifiably() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = "\(root)/config"
        let setUp = try await ApusProcess.run(["init", "example.com", "--config", config, "--data-dir", "\(root)/data",
                                               "--user", "alice", "--password", "init-serve-pw",
                                               "--scrypt-log-n", "4"])
        try #require(setUp.status == 0, "\(setUp.err)")
        let records = try await ApusProcess.run(["dns", "records", "example.com", "--config", config])
        try #require(records.status == 0, "\(records.err)")
        try records.out.write(toFile: "\(root)/zone", atomically: true, encoding: .utf8)

        // The only change to what init wrote: loopback ports instead of 25/587/465.
        let ports = try Self.freePorts(3)
        try ApusProcess.setConfigKeys(ApusProcess.loopbackListeners(
            [("mx", ports[0]), ("submission", ports[1]), ("submissions", ports[2]), ("admin", nil)]), configDirectory: config)

        let server = Process()
        server.executableURL = URL(fileURLWithPath: try #require(ApusProcess.apus))
        server.arguments = ["serve", "--config", config]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let result = try await ApusProcess.runProgram(DNSRecordsCommandTests.python, [
            "-c", Self.script, config, "\(root)/zone", "\(root)/data/mail/example.com/alice", String(ports[1])])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.trimmingCharacters(in: .whitespacesAndNewlines) == "[true, true]",
                "dkimpy with the published records: \(result.out) \(result.err)")
    }
}
