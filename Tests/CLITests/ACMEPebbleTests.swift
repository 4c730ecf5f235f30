import Foundation
import Testing
import TestSupport

/// The built-in ACME client against Debian's `pebble` on loopback, all through the `apus` binary: `apus init
/// --acme-email`, `apus serve` obtaining a certificate through TLS-ALPN-01 at start (the self-signed one from
/// init is replaced at once), `apus cert renew` getting another through HTTP-01 answered by the running
/// server, a forced renewal under a connected client, and a challenge pebble refuses. Pebble rejects 40 %
/// of good nonces, so every step also exercises the badNonce retry.
@Suite(.serialized) struct ACMEPebbleTests {
    /// argv: config dir, submissions port, CA file, apus path. Connects to 465 (TLS, verified by `CA file`),
    /// runs `apus cert renew --force` while connected, then says NOOP on the old connection and opens a new
    /// one. Prints JSON: old and new certificate fingerprints, the NOOP reply.
    static let renewUnderClient = """
        import sys, ssl, socket, subprocess, hashlib, json, time
        config, port, cafile, apus = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
        def connect():
            context = ssl.create_default_context(cafile=cafile)
            s = context.wrap_socket(socket.create_connection(('127.0.0.1', port), timeout=30), server_hostname='mx.example.test')
            f = s.makefile('rb')
            f.readline()
            return s, f, hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()
        s, f, old = connect()
        renew = subprocess.run([apus, 'cert', 'renew', '--force', '--config', config], capture_output=True, text=True)
        s.sendall(b'NOOP\\r\\n')
        noop = f.readline().decode().strip()
        new = old
        for _ in range(50):
            s2, f2, new = connect()
            s2.close()
            if new != old: break
            time.sleep(0.2)
        print(json.dumps({'old': old, 'new': new, 'noop': noop, 'renew': renew.returncode, 'out': renew.stdout, 'err': renew.stderr}))
        """

    @Test func pebbleIssuesRenewsAndRefuses() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ports = try InitServeTests.freePorts(7)
        let (pebblePort, managementPort, httpPort, httpsPort) = (ports[0], ports[1], ports[2], ports[3])
        let dns = try await Dnsmasq.start(["--host-record=mx.example.test,127.0.0.1",
                                           "--host-record=other.example.test,127.0.0.1"])
        defer { dns.stop() }
        let pebble = try Pebble(in: "\(root)/pebble", port: pebblePort, managementPort: managementPort,
                                httpPort: httpPort, tlsPort: httpsPort, dns: dns.address, nonceReject: 40)
        defer { pebble.stop() }
        try #require(await pebble.waitUntilReady(), "pebble did not start: \(pebble.log)")

        let config = "\(root)/config", data = "\(root)/data"
        let initialized = try await ApusProcess.run(["init", "example.test", "--hostname", "mx.example.test",
                                                     "--acme-email", "postmaster@example.test", "--config", config,
                                                     "--data-dir", data, "--scrypt-log-n", "4"])
        try #require(initialized.status == 0, "\(initialized.err)")
        #expect(initialized.out.contains("Certificates come from Let's Encrypt by themselves"), "\(initialized.out)")
        let toml = try String(contentsOfFile: "\(config)/apus.toml", encoding: .utf8)
        #expect(toml.contains("email = \"postmaster@example.test\""))
        #expect(toml.contains("https = [\"0.0.0.0:443\", \"[::]:443\"]"))
        try ApusProcess.setConfigKeys(ApusProcess.loopbackListeners(
            [("mx", ports[4]), ("submission", ports[5]), ("submissions", ports[6]), ("admin", nil),
             ("http", httpPort), ("https", httpsPort)])
            + [("acme.directory", "\"\(pebble.directoryURL)\""), ("acme.ca_file", "\"\(pebble.caFile)\""),
               ("acme.names", "[\"mx.example.test\"]")], configDirectory: config)

        // 1. At start the self-signed certificate from init is replaced through TLS-ALPN-01.
        let serveLog = "\(root)/serve.log"
        _ = FileManager.default.createFile(atPath: serveLog, contents: nil)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: try #require(ApusProcess.apus))
        server.arguments = ["serve", "--config", config]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle(forWritingAtPath: serveLog)
        try server.run()
        defer {
            if server.isRunning {
                server.terminate()
                server.waitUntilExit()
            }
        }
        var status = ""
        for _ in 0..<150 {
            status = try await ApusProcess.run(["cert", "status", "--config", config]).out
            if status.contains("Pebble Intermediate") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let log = { (try? String(contentsOfFile: serveLog, encoding: .utf8)) ?? "" }
        try #require(status.contains("Pebble Intermediate"), "no pebble certificate: \(status)\n\(log())\n\(pebble.log)")
        #expect(log().contains("acme-tls/1 handshake for mx.example.test"))
        #expect(status.hasPrefix("mx.example.test  names=mx.example.test  issuer=\"Pebble Intermediate"))
        #expect(status.contains("renewal=20"), "a renewal date, not now: \(status)")

        // 2. Port 465 presents it: openssl verifies the chain up to pebble's root of this run.
        let pebbleRoot = try pebble.root(), intermediate = try pebble.intermediate()
        try pebbleRoot.write(toFile: "\(root)/pebble-root.pem", atomically: true, encoding: .utf8)
        try intermediate.write(toFile: "\(root)/pebble-intermediate.pem", atomically: true, encoding: .utf8)
        let intermediateSubject = try await ApusProcess.runProgram("/usr/bin/openssl", [
            "x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", "\(root)/pebble-intermediate.pem"]).out
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "subject=", with: "")
        let verify = try await ApusProcess.runProgram("/bin/sh", ["-c",
            "echo QUIT | openssl s_client -connect 127.0.0.1:\(ports[6]) -servername mx.example.test -verify_hostname mx.example.test -CAfile \(root)/pebble-root.pem -verify_return_error -nameopt RFC2253 2>&1"])
        #expect(verify.out.contains("Verify return code: 0 (ok)"), "\(verify.out)")
        #expect(verify.out.contains("issuer=\(intermediateSubject)"), "issuer \(intermediateSubject): \(verify.out)")

        // 3. HTTP-01 for another name, answered by the running server's [listen] http.
        try ApusProcess.setConfigKeys([("acme.challenge", "\"http-01\""),
                                       ("acme.names", "[\"mx.example.test\", \"other.example.test\"]")], configDirectory: config)
        let renewed = try await ApusProcess.run(["cert", "renew", "--config", config, "--log-level", "info"])
        #expect(renewed.status == 0, "\(renewed.err)")
        #expect(renewed.out.contains("mx.example.test: not due"))
        #expect(renewed.out.contains("other.example.test: new certificate (no certificate yet)"), "\(renewed.out)")
        #expect(renewed.out.contains("other.example.test  names=other.example.test  issuer=\"Pebble Intermediate"))
        #expect(log().contains("/.well-known/acme-challenge/"), "the running server answered http-01")
        // Everything else on [listen] http is redirected to https.
        let redirect = try await ApusProcess.runProgram("/usr/bin/curl", [
            "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", "Host: mx.example.test",
            "http://127.0.0.1:\(httpPort)/webmail?x=1"])
        #expect(redirect.out == "301 https://mx.example.test/webmail?x=1", "\(redirect.out)")

        // 4. A forced renewal while a client is connected on 465: the client goes on, the next one gets the new one.
        let python = try await ApusProcess.runProgram("/usr/bin/python3", [
            "-c", Self.renewUnderClient, config, String(ports[6]), "\(root)/pebble-root.pem", try #require(ApusProcess.apus)])
        #expect(python.status == 0, "\(python.err)")
        let result = try JSONSerialization.jsonObject(with: Data(python.out.utf8)) as? [String: Any] ?? [:]
        #expect(result["renew"] as? Int == 0, "\(result)")
        #expect(result["noop"] as? String == "250 2.0.0 OK" || (result["noop"] as? String ?? "").hasPrefix("250"), "\(result)")
        #expect(result["old"] as? String != nil && result["old"] as? String != result["new"] as? String, "\(result)")

        // 5. badNonce answers were retried (pebble rejected 40 % of the nonces). Counted over the server's
        //    issuance and the HTTP-01 renewal, about 18 signed requests: the server's alone (about 9) went
        //    without a rejected nonce in about 1 run of 100.
        #expect((log() + renewed.err + renewed.out).contains("badNonce"), "no badNonce retry seen")

        // 6. Pebble refusing the challenge: the server stopped, [listen] http on 127.0.0.2 while the name resolves
        //    to 127.0.0.1. The old certificate stays and pebble's error is printed.
        server.terminate()
        server.waitUntilExit()
        let before = try String(contentsOfFile: "\(config)/certs/mx.example.test/fullchain.pem", encoding: .utf8)
        try ApusProcess.setConfigKeys([("http", "[\"127.0.0.2:\(httpPort)\"]"), ("acme.names", "[\"mx.example.test\"]")],
                                      configDirectory: config)
        let refused = try await ApusProcess.run(["cert", "renew", "--force", "--config", config])
        #expect(refused.status == 1)
        #expect(refused.err.contains("apus cert renew: mx.example.test: the CA refused the http-01 challenge for mx.example.test: connection"),
                "\(refused.err)")
        #expect(try String(contentsOfFile: "\(config)/certs/mx.example.test/fullchain.pem", encoding: .utf8) == before)
    }
}
