import Certificates
import Config
import Delivery
import DNSResolver
import Directory
import Foundation
import MailServer
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

/// Delivery over STARTTLS to a real peer: a second Apus (`MailServer`) as the MX of tls.test, with a
/// self-signed certificate for mx.tls.test that `ca_file` trusts ("verified"), and downgrade protection
/// once that peer is replaced by an MX that offers no STARTTLS.
@Suite struct TLSDeliveryTests {
    /// A receiving Apus on `ip`:`port` for domain tls.test (user bob).
    final class Peer: Sendable {
        let root: String
        let group: ServiceGroup
        let task: Task<Void, any Error>
        let server: MailServer
        let domain: String
        /// The port actually bound (the kernel chooses: no race with other tests for a "free" port).
        let port: Int
        var caFile: String { root + "/config/certs/mx.\(domain)/fullchain.pem" }

        init(ip: String, dns: String, domain: String = "tls.test") async throws {
            self.domain = domain
            root = NSTemporaryDirectory() + "apus-peer-" + UUID().uuidString
            let configDir = root + "/config"
            try FileManager.default.createDirectory(atPath: configDir + "/domains/\(domain)", withIntermediateDirectories: true)
            try "bob \(try PasswordHash.make(password: "x", logN: 10))\n"
                .write(toFile: configDir + "/domains/\(domain)/users", atomically: true, encoding: .utf8)
            try SelfSignedCertificate.write(hostname: "mx.\(domain)", certsDirectory: configDir + "/certs")
            var config = ApusConfig(hostname: "mx.\(domain)", dataDir: root + "/data")
            config.listen = .init(mx: [ListenAddress(host: ip, port: 0)], submission: [], submissions: [], admin: [])
            config.dns.servers = [try ListenAddress.parse(dns, defaultPort: 53)]
            config.delivery.holdRemote = true
            try config.render().write(toFile: configDir + "/apus.toml", atomically: true, encoding: .utf8)
            let loaded = try ApusConfig.load(configDirectory: configDir)
            server = try MailServer(config: loaded, configDirectory: configDir, logger: DeliveryHarness.logger)
            group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: DeliveryHarness.logger))
            let group = self.group
            task = Task { try await group.run() }
            port = await server.boundAddresses().first?.1.port ?? 0
        }

        func mailbox(_ user: String) -> [String] {
            let dir = root + "/data/mail/\(domain)/\(user)/new"
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
                .compactMap { try? String(contentsOfFile: "\(dir)/\($0)", encoding: .utf8) }
        }

        func stop() async {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    static func freePort(ip: String) async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: ip, port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }

    @Test func verifiedTLSThenDowngradeIsDeferred() async throws {
        let dnsmasq = try await Dnsmasq.start(["--mx-host=tls.test,mx.tls.test,10", "--host-record=mx.tls.test,127.0.0.6"])
        defer { dnsmasq.stop() }
        let resolver = dnsmasq.resolver(timeout: .seconds(1))
        let peer = try await Peer(ip: "127.0.0.6", dns: dnsmasq.address)
        let port = peer.port
        defer { peer.remove() }

        // Trusting the peer's certificate: verified TLS, recorded for the domain.
        // No connection reuse: the third delivery below must open a new connection to the replaced MX.
        let verified = try DeliveryHarness(dns: resolver, port: port, caFile: peer.caFile, reuseConnections: false)
        let message = ByteBuffer(string: "From: <a@local.test>\r\nSubject: over TLS\r\n\r\nHello bob.\r\n")
        let results = await verified.courier.deliver(domain: "tls.test", mailFrom: "a@local.test", recipients: ["bob@tls.test"],
                                                     message: message, smtputf8: false)
        #expect(results.map(\.outcome) == [.sent], "\(results)")
        #expect(results.first?.tls?.hasSuffix("verified") == true && results.first?.tls?.contains("unverified") == false,
                "\(results)")
        #expect(results.first?.remoteMTA == "mx.tls.test [127.0.0.6]")
        #expect(await verified.tlsLevels.level(for: "tls.test") == .tlsVerified)
        #expect(await DeliveryHarness.waitUntil(5) { peer.mailbox("bob").count == 1 })
        #expect(peer.mailbox("bob").first?.contains("Hello bob.") == true)
        let stateFile = try String(contentsOfFile: verified.root + "/state/tls-levels.json", encoding: .utf8)
        #expect(stateFile.contains("\"tls.test\" : \"tls-verified\""))

        // Without the CA: the certificate does not verify, TLS is used anyway (unverified).
        let opportunistic = try DeliveryHarness(dns: resolver, port: port, reuseConnections: false)
        let second = await opportunistic.courier.deliver(domain: "tls.test", mailFrom: "a@local.test",
                                                         recipients: ["bob@tls.test"], message: message, smtputf8: false)
        #expect(second.map(\.outcome) == [.sent])
        #expect(second.first?.tls?.hasSuffix("unverified") == true, "\(second)")
        #expect(await opportunistic.tlsLevels.level(for: "tls.test") == .tlsUnverified)
        await opportunistic.stop()

        // The MX is replaced by one without STARTTLS: the verified domain is deferred, nothing is sent.
        await peer.stop()
        var replacement: FakeMX?
        for _ in 0..<60 where replacement == nil {   // the old listener's port may take a moment to free up
            replacement = try? await FakeMX.start(ip: "127.0.0.6", port: port)
            if replacement == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let stripped = try #require(replacement)
        let third = await verified.courier.deliver(domain: "tls.test", mailFrom: "a@local.test", recipients: ["bob@tls.test"],
                                                   message: message, smtputf8: false)
        #expect(third.map(\.outcome) == [.temporary])
        #expect(third.first?.reply.contains("downgrade protection") == true, "\(third)")
        #expect(!stripped.commands.contains { $0.hasPrefix("MAIL") })
        #expect(await verified.tlsLevels.level(for: "tls.test") == .tlsVerified)
        await verified.stop()
        await stripped.stop()
    }
}
