import Config
import Delivery
import Directory
import DNSCore
import DNSResolver
import Foundation
import Logging
import MailQueue
import MailServer
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ServiceLifecycle
import Testing

/// DANE (RFC 7672) end to end with real peers: NSD serves dane.test signed with ldns-signzone and
/// plain.test unsigned; unbound validates with dane.test's DS as trust anchor; fake MX hosts on 127.0.0.2x
/// offer STARTTLS with certificates made by openssl, whose TLSA values openssl computes too (so the
/// courier's key extraction is checked against another implementation).
@Suite(.serialized) struct DANEDeliveryTests {
    /// Certificates and their TLSA `3 1 1` / `2 1 1` values, made with openssl.
    struct Certificates {
        let dir: String
        /// Self-signed, for a name that is no MX host's.
        var selfSigned: (chain: String, key: String, spkiSHA256: String)
        /// A leaf for mx-e.dane.test and the CA that signed it (chain file: leaf then CA).
        var caSigned: (chain: String, key: String, caSPKISHA256: String)

        init(dir: String) throws {
            self.dir = dir
            let script = #"""
                set -e
                ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30"
                openssl req -x509 $ec -subj "/CN=not-the-mx.example" -addext "subjectAltName=DNS:not-the-mx.example" -keyout self.key -out self.pem 2>/dev/null
                openssl req -x509 $ec -subj "/CN=DANE Test CA" -addext "basicConstraints=critical,CA:TRUE" -keyout ca.key -out ca.pem 2>/dev/null
                openssl req $ec -subj "/CN=mx-e.dane.test" -keyout e.key -out e.csr 2>/dev/null
                printf "subjectAltName=DNS:mx-e.dane.test\nextendedKeyUsage=serverAuth\n" > ext.cnf
                openssl x509 -req -in e.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile ext.cnf -out e.pem 2>/dev/null
                cat e.pem ca.pem > e-chain.pem
                spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1; }
                echo "$(spki self.pem) $(spki ca.pem)"
                """#
            let out = try DNSSECZone.run("/bin/sh", ["-c", script], in: dir).split(separator: " ").map {
                $0.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            selfSigned = (dir + "/self.pem", dir + "/self.key", out[0])
            caSigned = (dir + "/e-chain.pem", dir + "/e.key", out[1])
        }

        static func context(chain: String, key: String) throws -> NIOSSLContext {
            let certificates = try NIOSSLCertificate.fromPEMFile(chain).map { NIOSSLCertificateSource.certificate($0) }
            return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: certificates,
                                                                            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))))
        }
    }

    /// NSD, unbound and one fake MX per case, all on loopback.
    final class World {
        let dir: String
        let certs: Certificates
        let nsd: Nsd
        let unbound: Unbound
        let port: Int
        var mx: [String: FakeMX] = [:]
        static let wrong = String(repeating: "0123456789abcdef", count: 4)
        static let bogusData = String(repeating: "ab", count: 32)

        init() async throws {
            dir = NSTemporaryDirectory() + "apus-dane-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            certs = try Certificates(dir: dir)
            let port = try await TLSDeliveryTests.freePort(ip: "127.0.0.21")
            self.port = port
            let tlsa = { (host: String) in "_\(port)._tcp.\(host).dane.test. IN TLSA" }
            let signed = try DNSSECZone.sign(zone: "dane.test", text: Nsd.soa("dane.test") + """
                ns.dane.test. IN A 127.0.0.1
                a.dane.test. IN MX 10 mx-a.dane.test.
                _mta-sts.a.dane.test. IN TXT "v=STSv1; id=20261206"
                mta-sts.a.dane.test. IN A 127.0.0.27
                mx-a.dane.test. IN A 127.0.0.21
                \(tlsa("mx-a")) 3 1 1 \(certs.selfSigned.spkiSHA256)
                b.dane.test. IN MX 10 mx-b.dane.test.
                mx-b.dane.test. IN A 127.0.0.22
                \(tlsa("mx-b")) 3 1 1 \(Self.wrong)
                c.dane.test. IN MX 10 mx-c.dane.test.
                mx-c.dane.test. IN A 127.0.0.23
                \(tlsa("mx-c")) 3 1 1 \(certs.selfSigned.spkiSHA256)
                e.dane.test. IN MX 10 mx-e.dane.test.
                mx-e.dane.test. IN A 127.0.0.25
                \(tlsa("mx-e")) 2 1 1 \(certs.caSigned.caSPKISHA256)
                e2.dane.test. IN MX 10 mx-e2.dane.test.
                mx-e2.dane.test. IN A 127.0.0.25
                \(tlsa("mx-e2")) 2 1 1 \(certs.caSigned.caSPKISHA256)
                g.dane.test. IN MX 10 mx-g.dane.test.
                mx-g.dane.test. IN CNAME real-g.dane.test.
                real-g.dane.test. IN A 127.0.0.21
                \(tlsa("real-g")) 3 1 1 \(certs.selfSigned.spkiSHA256)
                \(tlsa("mx-g")) 3 1 1 \(Self.wrong)
                h.dane.test. IN MX 10 mx-h.dane.test.
                mx-h.dane.test. IN CNAME real-h.dane.test.
                real-h.dane.test. IN A 127.0.0.22
                \(tlsa("mx-h")) 3 1 1 \(certs.selfSigned.spkiSHA256)
                f.dane.test. IN MX 10 mx-f.dane.test.
                mx-f.dane.test. IN A 127.0.0.26
                \(tlsa("mx-f")) 3 1 1 \(Self.bogusData)

                """, in: dir)
            // A TLSA record altered after signing: its signature no longer verifies ("bogus", SERVFAIL).
            let tampered = signed.signed.replacingOccurrences(of: Self.bogusData, with: String(repeating: "cd", count: 32))
                .replacingOccurrences(of: Self.bogusData.uppercased(), with: String(repeating: "CD", count: 32))
            #expect(tampered != signed.signed, "the TLSA record of mx-f was not found in the signed zone")
            let plain = Nsd.soa("plain.test") + """
                ns.plain.test. IN A 127.0.0.1
                d.plain.test. IN MX 10 mx-d.plain.test.
                mx-d.plain.test. IN A 127.0.0.24
                _\(port)._tcp.mx-d.plain.test. IN TLSA 3 1 1 \(Self.wrong)

                """
            nsd = try await Nsd.start(zones: ["dane.test": tampered, "plain.test": plain], in: dir)
            unbound = try await Unbound.start(stubZones: ["dane.test": nsd.address, "plain.test": nsd.address],
                                              trustAnchors: [signed.ds], probe: "dane.test", in: dir)
            let selfSigned = try Certificates.context(chain: certs.selfSigned.chain, key: certs.selfSigned.key)
            let caSigned = try Certificates.context(chain: certs.caSigned.chain, key: certs.caSigned.key)
            for (name, ip, tls) in [("a", 21, selfSigned), ("b", 22, selfSigned), ("c", 23, nil), ("d", 24, selfSigned),
                                    ("e", 25, caSigned), ("f", 26, nil)] as [(String, Int, NIOSSLContext?)] {
                var behavior = FakeMX.Behavior()
                behavior.tls = tls
                mx[name] = try await FakeMX.start(ip: "127.0.0.\(ip)", port: port, behavior: behavior)
            }
        }

        func deliver(_ harness: DeliveryHarness, _ domain: String) async -> RecipientResult? {
            await harness.courier.deliver(domain: domain, mailFrom: "a@local.test", recipients: ["bob@\(domain)"],
                                          message: ByteBuffer(string: "From: <a@local.test>\r\nSubject: DANE\r\n\r\nHi.\r\n"),
                                          smtputf8: false).first
        }

        func mailCommands(_ name: String) -> [String] { mx[name]!.commands.filter { $0.hasPrefix("MAIL") } }

        func stop() async {
            for fake in mx.values { await fake.stop() }
            unbound.stop()
            nsd.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test func validatingResolverEnforcesTLSA() async throws {
        let world = try await World()
        let harness = try DeliveryHarness(dns: world.unbound.resolver(), port: world.port, reuseConnections: false, dnssec: true)
        let port = world.port

        // (a) 3 1 1 matches a self-signed certificate for another name: delivered, DANE-verified.
        let a = await world.deliver(harness, "a.dane.test")
        #expect(a?.outcome == .sent, "\(String(describing: a))")
        #expect(a?.tls == "TLSv1.3 dane=verified", "\(String(describing: a))")
        #expect(world.mx["a"]!.commands.contains("(tls)") && world.mx["a"]!.received.count == 1)

        // (b) 3 1 1 of another key: deferred, saying what the certificate's key hashes to.
        let b = await world.deliver(harness, "b.dane.test")
        #expect(b?.outcome == .temporary)
        #expect(b?.reply.contains("DANE: TLSA 3 1 1 for mx-b.dane.test does not match the certificate offered "
                                  + "(sha256 of its key is \(world.certs.selfSigned.spkiSHA256))") == true,
                "\(b?.reply ?? "nil")")
        #expect(world.mailCommands("b").isEmpty)

        // (c) TLSA published but no STARTTLS offered: never plaintext.
        let c = await world.deliver(harness, "c.dane.test")
        #expect(c?.outcome == .temporary)
        #expect(c?.reply.contains("does not offer STARTTLS, but _\(port)._tcp.mx-c.dane.test has TLSA records") == true,
                "\(c?.reply ?? "nil")")
        #expect(world.mailCommands("c").isEmpty && world.mx["c"]!.connections == 1)

        // (e) 2 1 1: the CA that signed the MX's certificate, sent in its chain, for its name.
        let e = await world.deliver(harness, "e.dane.test")
        #expect(e?.outcome == .sent, "\(String(describing: e))")
        #expect(e?.tls == "TLSv1.3 dane=verified")
        // The same server under another MX name: DANE-TA checks the name.
        let e2 = await world.deliver(harness, "e2.dane.test")
        #expect(e2?.outcome == .temporary)
        #expect(e2?.reply.contains("TLSA 2 1 1 for mx-e2.dane.test: the certificate is for mx-e.dane.test, not mx-e2.dane.test") == true,
                "\(e2?.reply ?? "nil")")
        #expect(world.mx["e"]!.received.count == 1)

        // (f) A bogus TLSA RRset (SERVFAIL from the validator): the host is not used at all.
        let f = await world.deliver(harness, "f.dane.test")
        #expect(f?.outcome == .temporary)
        #expect(f?.reply.contains("TLSA lookup for _\(port)._tcp.mx-f.dane.test failed (SERVFAIL)") == true, "\(f?.reply ?? "nil")")
        #expect(world.mx["f"]!.connections == 0)

        // An MX host that is a CNAME: the TLSA records at the expanded name come first (RFC 7672 §2.2.2; the
        // wrong record at the original name is not used), and without any there, those at the original name.
        let g = await world.deliver(harness, "g.dane.test")
        #expect(g?.outcome == .sent && g?.tls == "TLSv1.3 dane=verified", "\(String(describing: g))")
        let h = await world.deliver(harness, "h.dane.test")
        #expect(h?.outcome == .sent && h?.tls == "TLSv1.3 dane=verified", "\(String(describing: h))")
        #expect(world.mx["a"]!.received.count == 2 && world.mx["b"]!.received.count == 1)

        // (d) An unsigned zone: its TLSA record is ignored, opportunistic TLS as without DANE.
        let d = await world.deliver(harness, "d.plain.test")
        #expect(d?.outcome == .sent, "\(String(describing: d))")
        #expect(d?.tls == "TLSv1.3 unverified")
        // DANE never raises the domain's recorded level above "unverified" (no CA checked the certificate).
        #expect(await harness.tlsLevels.level(for: "a.dane.test") == .tlsUnverified)
        await harness.stop()
        await world.stop()
    }

    /// a.dane.test also has an MTA-STS policy in enforce mode that lists another MX host: DANE takes
    /// precedence (RFC 8461 §2), so its DANE host is used; without DANE the policy defers the mail.
    @Test func daneTakesPrecedenceOverMTASTS() async throws {
        let world = try await World()
        let (https, policyCA) = try await MTASTSTests.policyServer(
            ip: "127.0.0.27", hostname: "mta-sts.a.dane.test",
            body: "version: STSv1\nmode: enforce\nmx: elsewhere.dane.test\nmax_age: 86400\n", directory: world.dir)
        let httpsPort = https.localAddress!.port!
        let dane = try DeliveryHarness(dns: world.unbound.resolver(), port: world.port, caFile: policyCA,
                                       reuseConnections: false, mtaSTSPort: httpsPort, dnssec: true)
        let sent = await world.deliver(dane, "a.dane.test")
        #expect(sent?.outcome == .sent && sent?.tls == "TLSv1.3 dane=verified", "\(String(describing: sent))")
        #expect(FileManager.default.fileExists(atPath: dane.root + "/state/mta-sts/a.dane.test.json"),
                "the policy was not fetched, so this proves nothing")
        await dane.stop()

        let sts = try DeliveryHarness(dns: world.unbound.resolver(), port: world.port, caFile: policyCA,
                                      reuseConnections: false, mtaSTSPort: httpsPort, dnssec: false)
        let deferred = await world.deliver(sts, "a.dane.test")
        #expect(deferred?.outcome == .temporary)
        #expect(deferred?.reply.contains("matches its MTA-STS policy") == true, "\(deferred?.reply ?? "nil")")
        #expect(world.mx["a"]!.received.count == 1)
        await sts.stop()
        try? await https.close()
        await world.stop()
    }

    /// As `apus serve` wires it: `[dns] dnssec = true` in apus.toml reaches the courier; the `sent` log line
    /// says `tls=TLSv1.3 dane=verified`, and a mismatch leaves the message queued with the reason.
    @Test func serverConfigTurnsDANEOn() async throws {
        let world = try await World()
        let configDir = world.dir + "/config"
        try FileManager.default.createDirectory(atPath: configDir + "/domains/local.test", withIntermediateDirectories: true)
        try "dev \(try PasswordHash.make(password: "x", logN: 10))\n"
            .write(toFile: configDir + "/domains/local.test/users", atomically: true, encoding: .utf8)
        var config = ApusConfig(hostname: "mx.local.test", dataDir: world.dir + "/data")
        config.listen = .init(mx: [ListenAddress(host: "127.0.0.1", port: 0)], submission: [], submissions: [], admin: [])
        config.dns.servers = [try ListenAddress.parse(world.unbound.address, defaultPort: 53)]
        config.dns.dnssec = true
        config.delivery.smtpPort = world.port
        try config.render().write(toFile: configDir + "/apus.toml", atomically: true, encoding: .utf8)
        let loaded = try ApusConfig.load(configDirectory: configDir)
        #expect(loaded.dns.dnssec)

        let spool = try FileSpool(directory: world.dir + "/data/queue")
        var ids: [String: String] = [:]
        for domain in ["a.dane.test", "b.dane.test"] {
            let meta = QueuedMessage(id: QueuedMessage.newID(), mailFrom: "dev@local.test",
                                     recipients: [.init(address: "bob@\(domain)", original: "bob@\(domain)")],
                                     receivedAt: Date(), clientAddress: "127.0.0.1", clientName: "localhost",
                                     authenticatedUser: "dev", smtputf8: false, size: 20)
            try await spool.store(meta, message: ByteBuffer(string: "Subject: dane\r\n\r\nx\r\n"))
            ids[domain] = meta.id
        }
        let log = LogCapture()
        let logger = Logger(label: "dane-serve") { _ in log }
        let server = try MailServer(config: loaded, configDirectory: configDir, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: DeliveryHarness.logger))
        let task = Task { try await group.run() }
        _ = await server.boundAddresses()
        #expect(await DeliveryHarness.waitUntil(10) { world.mx["a"]!.received.count == 1 })
        #expect(await DeliveryHarness.waitUntil(10) {
            log.lines.contains { $0.hasPrefix("sent id=\(ids["a.dane.test"]!) to=<bob@a.dane.test>") && $0.contains(" tls=TLSv1.3 dane=verified ") }
        }, "\(log.lines.filter { $0.hasPrefix("sent") || $0.hasPrefix("deferred") })")
        #expect(await DeliveryHarness.waitUntil(10) {
            log.lines.contains { $0.hasPrefix("deferred id=\(ids["b.dane.test"]!) to=<bob@b.dane.test>")
                && $0.contains("DANE: TLSA 3 1 1 for mx-b.dane.test does not match the certificate offered") }
        }, "\(log.lines.filter { $0.hasPrefix("deferred") })")
        #expect(world.mailCommands("b").isEmpty)
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await world.stop()
    }

    /// Keeps every log line (and prints them when APUS_TEST_LOG is set).
    struct LogCapture: LogHandler, Sendable {
        private let box = NIOLockedValueBox<[String]>([])
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        var lines: [String] { box.withLockedValue { $0 } }
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            box.withLockedValue { $0.append("\(event.message)") }
            if ProcessInfo.processInfo.environment["APUS_TEST_LOG"] != nil { print("[\(event.level)] \(event.message)") }
        }
    }

    /// The same signed zone through a resolver not declared validating (`[dns] dnssec = false`): the AD bit
    /// is not believed, the wrong TLSA record of b.dane.test is not looked at, delivery is opportunistic.
    @Test func untrustedResolverIgnoresTLSA() async throws {
        let world = try await World()
        let harness = try DeliveryHarness(dns: world.unbound.resolver(), port: world.port, reuseConnections: false, dnssec: false)
        let b = await world.deliver(harness, "b.dane.test")
        #expect(b?.outcome == .sent, "\(String(describing: b))")
        #expect(b?.tls == "TLSv1.3 unverified")
        let c = await world.deliver(harness, "c.dane.test")
        #expect(c?.outcome == .sent && c?.tls == nil, "\(String(describing: c))")
        await harness.stop()
        await world.stop()
    }
}
