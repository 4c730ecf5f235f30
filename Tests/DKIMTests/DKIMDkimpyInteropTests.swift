import Foundation
import Testing
@testable import DKIM

/// Interoperability with dkimpy (Debian `python3-dkim`, plus `python3-nacl` for Ed25519), run through
/// /usr/bin/python3 (a pyenv python on PATH would not see Debian's modules).
@Suite(.serialized)
struct DKIMDkimpyInteropTests {
    static let python = "/usr/bin/python3"

    static let verifyScript = """
        import sys, json, dkim
        msg = open(sys.argv[1], 'rb').read()
        dns = json.load(open(sys.argv[2]))
        def dnsfunc(name, timeout=5):
            n = (name.decode() if isinstance(name, bytes) else name).rstrip('.')
            v = dns.get(n)
            return v.encode() if v else None
        d = dkim.DKIM(msg)
        count = sum(1 for h in d.headers if h[0].lower() == b'dkim-signature')
        def check(i):
            try:
                return bool(d.verify(idx=i, dnsfunc=dnsfunc))
            except dkim.DKIMException as e:
                print('signature %d: %s' % (i, e), file=sys.stderr)
                return False
        print(json.dumps([check(i) for i in range(count)]))
        """

    static let signScript = """
        import sys, base64, dkim
        msg = open(sys.argv[1], 'rb').read()
        algorithm, keyfile, domain, selector, canon = sys.argv[2:7]
        key = open(keyfile, 'rb').read()
        if algorithm == 'ed25519-sha256':
            der = base64.b64decode(b''.join(l for l in key.splitlines() if not l.startswith(b'-----')))
            key = base64.b64encode(der[-32:])
        h, b = canon.split('/')
        sig = dkim.sign(msg, selector.encode(), domain.encode(), key, canonicalize=(h.encode(), b.encode()),
                        signature_algorithm=algorithm.encode(), include_headers=[b'from', b'to', b'subject', b'date'])
        sys.stdout.buffer.write(sig + msg)
        """

    static func run(_ script: String, _ args: [String]) throws -> (Int32, [UInt8], String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, [UInt8](o), String(decoding: e, as: UTF8.self))
    }

    static func requireDkimpy() throws {
        let (status, _, err) = try run("import dkim, nacl", [])
        if status != 0 {
            Issue.record("dkimpy is not importable by \(python): install the Debian packages python3-dkim and python3-nacl (\(err))")
            throw CancellationError()
        }
    }

    static func temp(_ name: String, _ bytes: [UInt8]) throws -> String {
        // One directory per file, removed by `removeTemp` (no apus-dkim-* left in /tmp).
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("apus-dkim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Removes what `temp` made for `path`.
    static func removeTemp(_ path: String) {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }

    static let dnsRecords: [String: String] = [
        "rsa._domainkey.example.com": "v=DKIM1; k=rsa; p=\(TestKeys.rsa2048Public)",
        "ed._domainkey.example.com": "v=DKIM1; k=ed25519; p=\(TestKeys.ed25519Public)",
    ]

    static func dkimpyVerify(_ message: [UInt8], tag: String) throws -> [Bool] {
        let msg = try temp("msg-\(tag).eml", message)
        let dns = try temp("dns-\(tag).json", [UInt8](try JSONSerialization.data(withJSONObject: dnsRecords)))
        defer { removeTemp(msg); removeTemp(dns) }
        let (status, out, err) = try run(verifyScript, [msg, dns])
        #expect(status == 0, "\(err)")
        if !err.isEmpty { print("dkimpy (\(tag)): \(err)") }
        return (try JSONSerialization.jsonObject(with: Data(out)) as? [Bool]) ?? []
    }

    @Test func dkimpyVerifiesOurSignatures() throws {
        try Self.requireDkimpy()
        let keys = [TestKeys.rsa2048, try TestKeys.key(TestKeys.ed25519PEM, domain: "example.com", selector: "ed")]
        for (h, b) in [(DKIMCanonicalization.relaxed, DKIMCanonicalization.relaxed), (.simple, .simple)] {
            var signer = DKIMSigner(timestamp: Int64(Date().timeIntervalSince1970))
            signer.headerCanonicalization = h
            signer.bodyCanonicalization = b
            let signed = try signer.sign(message: sampleMessage, keys: keys)
            #expect(try Self.dkimpyVerify(signed, tag: "ok-\(h)") == [true, true])
            // dkimpy really checks: a tampered body fails for both.
            let tampered = signed.replacingFirst("Joe.", with: "Jim.")
            #expect(try Self.dkimpyVerify(tampered, tag: "bad-\(h)") == [false, false])
        }
    }

    @Test(arguments: [("rsa-sha256", "rsa"), ("ed25519-sha256", "ed")], ["relaxed/relaxed", "simple/simple"])
    func weVerifyDkimpySignatures(_ algorithm: (String, String), _ canon: String) async throws {
        try Self.requireDkimpy()
        let keyFile = algorithm.1 == "rsa" ? "dkimpy-data/2048_testkey_PKCS8.key" : "apus/ed25519.pem"
        let msg = try Self.temp("unsigned.eml", sampleMessage)
        defer { Self.removeTemp(msg) }
        let (status, signed, err) = try Self.run(Self.signScript, [msg, algorithm.0, Fixtures.root.appendingPathComponent(keyFile).path,
                                                                   "example.com", algorithm.1, canon])
        #expect(status == 0, "\(err)")
        let results = await verify(signed, Self.dnsRecords.mapValues { .found([$0]) })
        #expect(results.map(\.status) == [.pass], "\(results)")
        let tampered = await verify(signed.replacingFirst("dinner", with: "lunch"), Self.dnsRecords.mapValues { .found([$0]) })
        #expect(tampered.map(\.reason) == [.signatureMismatch])
    }
}
