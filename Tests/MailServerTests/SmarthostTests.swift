import Certificates
import Config
import Delivery
import DNSCore
import Logging
import Foundation
import MailQueue
import NIOCore
import Testing

/// `[delivery] relay_host`: one Apus (the sender) hands every remote recipient to a second Apus (the relay)
/// on its submission port, with AUTH over STARTTLS or over implicit TLS; the relay's self-signed
/// certificate (IP SAN 127.0.0.1) is trusted through `ca_file`. The relay keeps remote mail queued
/// (`hold_remote`), so its queue shows what it received.
@Suite(.serialized) struct SmarthostTests {
    /// Starts the relay and a sender pointed at it; `password` goes into the sender's relay_auth_file.
    static func pair(tls: String, password: String = "secret", relayHost: ((TestServer) -> String)? = nil,
                     resolver: StaticResolver = StaticResolver(), relayIPSAN: Bool = true) async throws
        -> (sender: TestServer, relay: TestServer) {
        let relay = relayIPSAN ? try await TestServer() : try await TestServer(selfSignedCertificate: false, prepare: {
            try SelfSignedCertificate.write(hostname: "mx.example.test", certsDirectory: $0 + "/certs")
        })
        let port = tls == "tls" ? relay.ports[.submissions]! : relay.ports[.submission]!
        let sender = try await TestServer(resolver: resolver, configure: {
            $0.delivery.holdRemote = false
            $0.delivery.relayHost = relayHost?(relay) ?? "127.0.0.1:\(port)"
            $0.delivery.relayTLS = tls
            $0.delivery.relayAuthFile = "relay.auth"
            $0.delivery.caFile = relay.configDirectory + "/certs/mx.example.test/fullchain.pem"
        }, prepare: { dir in
            try "dev@example.test \(password)\n".write(toFile: dir + "/relay.auth", atomically: true, encoding: .utf8)
        })
        return (sender, relay)
    }

    /// Queues a message from dev@example.test to two remote recipients in the sender's queue and asks for
    /// delivery now.
    static func enqueue(_ server: TestServer, requireTLS: Bool = false) async throws -> String {
        let spool = try FileSpool(directory: server.dataDirectory + "/queue")
        let text = "From: <dev@example.test>\r\nTo: <a@remote.test>\r\nSubject: via the smarthost\r\n\r\nHello.\r\n"
        let id = QueuedMessage.newID()
        var meta = QueuedMessage(id: id, mailFrom: "dev@example.test",
                                 recipients: [.init(address: "a@remote.test", original: "a@remote.test"),
                                              .init(address: "b@elsewhere.test", original: "b@elsewhere.test")],
                                 receivedAt: Date(), clientAddress: "127.0.0.1", clientName: "localhost",
                                 authenticatedUser: "dev@example.test", smtputf8: false, size: text.utf8.count)
        if requireTLS { meta.requireTLS = true }
        try await spool.store(meta, message: ByteBuffer(string: text))
        _ = FileManager.default.createFile(atPath: server.dataDirectory + "/state/retry/" + id, contents: Data())
        return id
    }

    static func waitUntil(_ seconds: Double = 15, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }

    @Test(arguments: ["starttls", "tls"])
    func everyRemoteRecipientGoesToTheRelay(tls: String) async throws {
        let (sender, relay) = try await Self.pair(tls: tls)
        let id = try await Self.enqueue(sender)
        #expect(await Self.waitUntil { sender.queueCount() == 0 && relay.queueCount() == 1 })
        let relayed = try #require(try await FileSpool(directory: relay.dataDirectory + "/queue").list().first)
        #expect(relayed.mailFrom == "dev@example.test")
        #expect(relayed.authenticatedUser == "dev@example.test")
        #expect(Set(relayed.recipients.map(\.address)) == ["a@remote.test", "b@elsewhere.test"])
        #expect(!FileManager.default.fileExists(atPath: sender.dataDirectory + "/queue/\(id).msg"))
        await sender.stop()
        await relay.stop()
    }

    /// A wrong password: the relay says 535, the mail stays queued (deferred) with a diagnosis naming the file.
    @Test func wrongCredentialsDefer() async throws {
        let (sender, relay) = try await Self.pair(tls: "starttls", password: "wrong")
        let id = try await Self.enqueue(sender)
        let spool = try FileSpool(directory: sender.dataDirectory + "/queue")
        #expect(await Self.waitUntil { ((try? await spool.load(id: id).0)?.recipients.first?.attempts ?? 0) >= 1 })
        let meta = try await spool.load(id: id).0
        #expect(meta.recipients.map(\.state) == [.pending, .pending])
        #expect(meta.recipients.first?.lastReply?.contains("refused the login of dev@example.test") == true)
        #expect(meta.recipients.first?.lastStatus == "4.7.8")
        #expect(meta.recipients.first?.diagnosis?.contains("relay_auth_file") == true)
        #expect(relay.queueCount() == 0)
        await sender.stop()
        await relay.stop()
    }

    /// The certificate is checked against relay_host: a relay whose certificate names only mx.example.test
    /// (no IP address) is refused when relay_host is "localhost" or "127.0.0.1"; nothing is sent, not even
    /// the password. (With an IP SAN matching the address connected to, NIOSSL accepts the certificate
    /// whatever the name.)
    @Test(arguments: ["localhost", "127.0.0.1"])
    func certificateNameIsChecked(name: String) async throws {
        var dns = StaticResolver()
        dns.add("localhost", .a(IPAddress("127.0.0.1")!))
        let (sender, relay) = try await Self.pair(tls: "starttls", relayHost: { "\(name):\($0.ports[.submission]!)" },
                                                  resolver: dns, relayIPSAN: false)
        let id = try await Self.enqueue(sender)
        let spool = try FileSpool(directory: sender.dataDirectory + "/queue")
        #expect(await Self.waitUntil { ((try? await spool.load(id: id).0)?.recipients.first?.attempts ?? 0) >= 1 })
        let meta = try await spool.load(id: id).0
        #expect(meta.recipients.first?.state == .pending)
        #expect(meta.recipients.first?.lastReply?.contains("TLS") == true || meta.recipients.first?.lastReply?.contains("certificate") == true,
                "\(meta.recipients.first?.lastReply ?? "")")
        #expect(relay.queueCount() == 0)
        await sender.stop()
        await relay.stop()
    }

    /// What `apus check` runs: connect, TLS, login, QUIT; nil when the relay accepts the credentials.
    @Test func checkLogin() async throws {
        let relay = try await TestServer()
        let ca = relay.configDirectory + "/certs/mx.example.test/fullchain.pem"
        func check(_ password: String, _ security: RelayCourier.Security) async throws -> String? {
            let port = security == .tls ? relay.ports[.submissions]! : relay.ports[.submission]!
            return try await RelayCourier(host: "127.0.0.1", port: port, security: security,
                                          credentials: .init(user: "dev@example.test", password: password),
                                          hostname: "sender.test", dns: StaticResolver(), caFile: ca,
                                          logger: Logger(label: "test")).checkLogin()
        }
        #expect(try await check("secret", .starttls) == nil)
        #expect(try await check("secret", .tls) == nil)
        let refused = try await check("wrong", .starttls)
        #expect(refused?.contains("refused the login of dev@example.test: 535") == true, "\(refused ?? "nil")")
        await relay.stop()
    }

    @Test func credentialsFile() {
        #expect(RelayCourier.Credentials.parse("# smarthost\nuser@example.net  pass word \n")
                == .init(user: "user@example.net", password: "pass word"))
        #expect(RelayCourier.Credentials.parse("only-a-user\n") == nil)
        #expect(RelayCourier.parseHost("smtp.example.net", security: .tls)! == ("smtp.example.net", 465))
        #expect(RelayCourier.parseHost("[::1]:2525", security: .starttls)! == ("::1", 2525))
        #expect(RelayCourier.parseHost("host:99999", security: .starttls) == nil)
    }
}
