import Certificates
import Config
import Delivery
import Directory
import Foundation
import MailServer
import NIOCore
import ServiceLifecycle
import Testing
import TestSupport

/// Apus hosting its own MTA-STS policy (`[listen] https`, `[mta_sts]`) and Apus's delivery code enforcing it:
/// the receiving Apus serves `https://mta-sts.sts2.test/.well-known/mta-sts.txt` from its configuration, the
/// `_mta-sts` TXT record carries the id `apus dns records` computes, and the sending side (RemoteCourier with
/// MTASTSPolicyStore, trusting the test certificates) skips the preferred MX the policy does not list.
@Suite struct MTASTSHostingTests {
    @Test func policyServedByApusIsFetchedAndEnforced() async throws {
        let root = NSTemporaryDirectory() + "apus-sts-host-" + UUID().uuidString
        let configDir = root + "/config"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: configDir + "/domains/sts2.test", withIntermediateDirectories: true)
        try "bob \(try PasswordHash.make(password: "x", logN: 10))\n"
            .write(toFile: configDir + "/domains/sts2.test/users", atomically: true, encoding: .utf8)
        // Two self-signed certificates: the MX's and the policy host's; the sender trusts both.
        for name in ["mx.sts2.test", "mta-sts.sts2.test"] {
            try SelfSignedCertificate.write(hostname: name, certsDirectory: configDir + "/certs")
        }
        let trusted = root + "/trusted.pem"
        try (try String(contentsOfFile: configDir + "/certs/mx.sts2.test/fullchain.pem", encoding: .utf8)
             + String(contentsOfFile: configDir + "/certs/mta-sts.sts2.test/fullchain.pem", encoding: .utf8))
            .write(toFile: trusted, atomically: true, encoding: .utf8)

        var config = ApusConfig(hostname: "mx.sts2.test", dataDir: root + "/data")
        config.listen = .init(mx: [ListenAddress(host: "127.0.0.14", port: 0)], submission: [], submissions: [], admin: [])
        config.listen.https = [ListenAddress(host: "127.0.0.14", port: 0)]
        config.mtaSTS = .init(mode: "enforce", mx: ["mx.sts2.test"], maxAge: .days(1))
        config.delivery.holdRemote = true
        try config.render().write(toFile: configDir + "/apus.toml", atomically: true, encoding: .utf8)
        let loaded = try ApusConfig.load(configDirectory: configDir)
        let server = try MailServer(config: loaded, configDirectory: configDir, logger: DeliveryHarness.logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: DeliveryHarness.logger))
        let task = Task { try await group.run() }
        let smtpPort = try #require(await server.boundAddresses().first?.1.port)
        let httpsPort = try #require(await server.webAddresses().first?.port)

        let id = loaded.mtaSTS.policyID(hostname: loaded.hostname)
        let dnsmasq = try await Dnsmasq.start([
            "--mx-host=sts2.test,rogue.sts2.test,5", "--host-record=rogue.sts2.test,127.0.0.15",
            "--mx-host=sts2.test,mx.sts2.test,10", "--host-record=mx.sts2.test,127.0.0.14",
            "--host-record=mta-sts.sts2.test,127.0.0.14", "--txt-record=_mta-sts.sts2.test,v=STSv1; id=\(id)",
        ])
        defer { dnsmasq.stop() }
        let rogue = try await FakeMX.start(ip: "127.0.0.15", port: smtpPort)

        let sender = try DeliveryHarness(dns: dnsmasq.resolver(timeout: .seconds(1)), port: smtpPort, caFile: trusted,
                                         mtaSTSPort: httpsPort)
        let store = try MTASTSPolicyStore(dns: dnsmasq.resolver(timeout: .seconds(1)), cacheDirectory: root + "/sts-cache",
                                          caFile: trusted, port: httpsPort, timeout: .seconds(3), logger: DeliveryHarness.logger)
        let text = try await store.fetchPolicyText("sts2.test")
        #expect(text == "version: STSv1\r\nmode: enforce\r\nmx: mx.sts2.test\r\nmax_age: 86400\r\n")
        let policy = await store.policy(for: "sts2.test")
        #expect(policy?.mode == .enforce && policy?.mx == ["mx.sts2.test"])

        let sent = await sender.courier.deliver(domain: "sts2.test", mailFrom: "a@local.test", recipients: ["bob@sts2.test"],
                                                message: ByteBuffer(string: "Subject: sts\r\n\r\nhello\r\n"), smtputf8: false)
        #expect(sent.map(\.outcome) == [.sent], "\(sent)")
        #expect(sent.first?.remoteMTA == "mx.sts2.test [127.0.0.14]")
        #expect(sent.first?.tls?.hasSuffix(" verified") == true)
        #expect(rogue.connections == 0, "the MX the policy does not list was contacted")
        #expect(FileManager.default.fileExists(atPath: sender.root + "/state/mta-sts/sts2.test.json"))

        await sender.stop()
        await rogue.stop()
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
