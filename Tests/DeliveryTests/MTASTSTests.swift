import Certificates
import Delivery
import DNSCore
import DNSResolver
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Testing

/// MTA-STS (RFC 8461): parsing and MX matching as tables; then `enforce` with the policy served over
/// HTTPS on loopback, a genuine MX (a second Apus with a trusted certificate) and a rogue MX that the
/// policy does not list.
@Suite struct MTASTSTests {
    @Test(arguments: [
        ("v=STSv1; id=20261130T090000;", "20261130T090000"),
        ("v=STSv1;id=abc", "abc"),
        ("v=STSv1; id=", nil),
        ("v=STSv2; id=abc", nil),
        ("id=abc; v=STSv1", nil),
        ("v=STSv1; id=has-dash", nil),
    ] as [(String, String?)])
    func txtRecord(text: String, id: String?) {
        #expect(MTASTSRecord.id(in: text) == id)
    }

    @Test func policyParsingAndMatching() throws {
        let policy = try MTASTSPolicy.parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.Example.NET\r\nmax_age: 604800\r\n")
        #expect(policy.mode == .enforce)
        #expect(policy.maxAge == 604800)
        #expect(policy.matches("mail.example.com"))
        #expect(policy.matches("MAIL.example.com."))
        #expect(policy.matches("mx1.example.net"))
        #expect(!policy.matches("example.net"))
        #expect(!policy.matches("a.b.example.net"))
        #expect(!policy.matches("evil.example.com"))
        #expect(throws: MTASTSPolicy.ParseError.self) { try MTASTSPolicy.parse("version: STSv1\nmode: enforce\nmax_age: 1\n") }
        #expect(throws: MTASTSPolicy.ParseError.self) { try MTASTSPolicy.parse("mode: enforce\nmx: a\nmax_age: 1\n") }
        #expect(try MTASTSPolicy.parse("version: STSv1\nmode: none\nmax_age: 99999999999\n").maxAge == 31_557_600)
    }

    /// An HTTPS server on `ip` answering every request with `body`.
    static func policyServer(ip: String, hostname: String, body: String, directory: String) async throws -> (any Channel, String) {
        let (certPEM, keyPEM) = try SelfSignedCertificate.generate(hostname: hostname)
        let caFile = directory + "/\(hostname).pem"
        try certPEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certPEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(PolicyHandler(body: body))
                }
            }
            .bind(host: ip, port: 0).get()
        return (channel, caFile)
    }

    final class PolicyHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let body: String
        init(body: String) { self.body = body }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            var head = HTTPResponseHead(version: .http1_1, status: .ok)
            head.headers.add(name: "Content-Type", value: "text/plain")
            head.headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    @Test func enforceRestrictsMXAndRequiresVerifiedTLS() async throws {
        let dir = NSTemporaryDirectory() + "apus-sts-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (https, policyCA) = try await Self.policyServer(
            ip: "127.0.0.13", hostname: "mta-sts.sts.test",
            body: "version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 86400\n", directory: dir)
        let dnsmasq = try await Dnsmasq.start([
            "--mx-host=sts.test,rogue.sts.test,5", "--host-record=rogue.sts.test,127.0.0.12",
            "--mx-host=sts.test,mx.sts.test,10", "--host-record=mx.sts.test,127.0.0.11",
            "--host-record=mta-sts.sts.test,127.0.0.13", "--txt-record=_mta-sts.sts.test,v=STSv1; id=20261130",
        ])
        defer { dnsmasq.stop() }
        let resolver = dnsmasq.resolver(timeout: .seconds(1))
        let peer = try await TLSDeliveryTests.Peer(ip: "127.0.0.11", dns: dnsmasq.address, domain: "sts.test")
        let port = peer.port
        let rogue = try await FakeMX.start(ip: "127.0.0.12", port: port)
        defer { peer.remove() }
        let bothCAs = dir + "/both.pem"
        try (try String(contentsOfFile: policyCA, encoding: .utf8) + String(contentsOfFile: peer.caFile, encoding: .utf8))
            .write(toFile: bothCAs, atomically: true, encoding: .utf8)
        let message = ByteBuffer(string: "Subject: sts\r\n\r\nhello\r\n")
        let httpsPort = https.localAddress!.port!

        // Enforce: the preferred but unlisted MX is never contacted; the listed one is used with verified TLS.
        let good = try DeliveryHarness(dns: resolver, port: port, caFile: bothCAs, mtaSTSPort: httpsPort)
        let sent = await good.courier.deliver(domain: "sts.test", mailFrom: "a@local.test", recipients: ["bob@sts.test"],
                                              message: message, smtputf8: false)
        #expect(sent.map(\.outcome) == [.sent], "\(sent)")
        #expect(sent.first?.remoteMTA == "mx.sts.test [127.0.0.11]")
        #expect(sent.first?.tls?.hasSuffix(" verified") == true)
        #expect(rogue.connections == 0)
        #expect(FileManager.default.fileExists(atPath: good.root + "/state/mta-sts/sts.test.json"))
        await good.stop()

        // Enforce, but the MX certificate cannot be verified (its CA is unknown): deferred, not sent over
        // unverified TLS, and still not to the rogue MX.
        let unverifiable = try DeliveryHarness(dns: resolver, port: port, caFile: policyCA, mtaSTSPort: httpsPort)
        let deferred = await unverifiable.courier.deliver(domain: "sts.test", mailFrom: "a@local.test", recipients: ["bob@sts.test"],
                                                          message: message, smtputf8: false)
        #expect(deferred.map(\.outcome) == [.temporary], "\(deferred)")
        #expect(rogue.connections == 0)
        #expect(await DeliveryHarness.waitUntil(5) { peer.mailbox("bob").count == 1 })
        await unverifiable.stop()

        // Without MTA-STS the rogue MX (preference 5) would have been used.
        let plain = try DeliveryHarness(dns: resolver, port: port)
        let leaked = await plain.courier.deliver(domain: "sts.test", mailFrom: "a@local.test", recipients: ["bob@sts.test"],
                                                 message: message, smtputf8: false)
        #expect(leaked.first?.remoteMTA == "rogue.sts.test [127.0.0.12]")
        await plain.stop()

        await peer.stop()
        await rogue.stop()
        try? await https.close()
    }
}
