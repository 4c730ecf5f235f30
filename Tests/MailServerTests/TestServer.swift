import Certificates
import Config
import Directory
import DNSCore
import Foundation
import Logging
import MailServer
import NIOCore
import NIOPosix
import ServiceLifecycle
import SMTPProtocol

/// A live `MailServer` on 127.0.0.1 port 0 with a temporary configuration:
/// domain example.test, users dev and bob (password "secret"), a self-signed certificate.
final class TestServer: Sendable {
    let root: String
    let configDirectory: String
    let dataDirectory: String
    let server: MailServer
    let group: ServiceGroup
    let ports: [ListenerKind: Int]
    let runTask: Task<Void, any Error>

    static let passwordHash: String = try! PasswordHash.make(password: "secret", logN: 10)

    init(maxMessageBytes: Int = 10_000, maxRecipients: Int = 5, maxErrors: Int = 10, maxLine: Int = 4096,
         host: String = "127.0.0.1", resolver: any DNSResolving = StaticResolver(),
         configure: (inout ApusConfig) -> Void = { _ in },
         selfSignedCertificate: Bool = true, log: CapturedLog? = nil,
         prepare: (String) throws -> Void = { _ in }) async throws {
        let root = NSTemporaryDirectory() + "apus-test-" + UUID().uuidString
        self.root = root
        configDirectory = root + "/config"
        dataDirectory = root + "/data"
        let fm = FileManager.default
        try fm.createDirectory(atPath: configDirectory + "/domains/example.test", withIntermediateDirectories: true)
        try "dev \(Self.passwordHash)\nbob \(Self.passwordHash)\n"
            .write(toFile: configDirectory + "/domains/example.test/users", atomically: true, encoding: .utf8)
        if selfSignedCertificate {
            try SelfSignedCertificate.write(hostname: "mx.example.test", certsDirectory: configDirectory + "/certs",
                                            ipAddresses: [[127, 0, 0, 1]])
        }
        var config = ApusConfig(hostname: "mx.example.test", dataDir: dataDirectory)
        let any = [ListenAddress(host: host, port: 0)]
        config.listen = .init(mx: any, submission: any, submissions: any, admin: [])
        config.limits.maxMessageBytes = maxMessageBytes
        config.limits.maxRecipients = maxRecipients
        config.limits.maxErrors = maxErrors
        config.limits.maxCommandLineBytes = maxLine
        config.delivery.holdRemote = true   // tests that deliver remotely turn this off
        configure(&config)
        let loaded: ApusConfig
        do {
            try prepare(configDirectory)
            try config.render().write(toFile: configDirectory + "/apus.toml", atomically: true, encoding: .utf8)
            loaded = try ApusConfig.load(configDirectory: configDirectory)
        } catch {
            try? FileManager.default.removeItem(atPath: root)   // deinit does not run for a failed init
            throw error
        }

        var logger: Logger
        if let log {
            logger = Logger(label: "test") { _ in log }
            logger.logLevel = .info
        } else {
            logger = Logger(label: "test")
            logger.logLevel = ProcessInfo.processInfo.environment["APUS_TEST_LOG"] != nil ? .debug : .critical
        }
        let server: MailServer
        do {
            server = try MailServer(config: loaded, configDirectory: configDirectory, resolver: resolver,
                                    configPollInterval: .milliseconds(200), logger: logger)
        } catch {
            try? FileManager.default.removeItem(atPath: root)
            throw error
        }
        self.server = server
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: logger))
        self.group = group
        runTask = Task { try await group.run() }
        var ports: [ListenerKind: Int] = [:]
        for (kind, address) in await server.boundAddresses() { ports[kind] = address.port }
        self.ports = ports
    }

    /// A test that ends without `stop()` (a failed expectation, an early throw) leaves no directory behind.
    deinit { try? FileManager.default.removeItem(atPath: root) }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await runTask.value
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Messages delivered to a local user's Maildir.
    func maildirCount(_ user: String = "dev") -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "\(dataDirectory)/mail/example.test/\(user)/new").count) ?? 0
    }

    func maildirMessages(_ user: String = "dev") -> [String] {
        let dir = "\(dataDirectory)/mail/example.test/\(user)/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().compactMap { try? String(contentsOfFile: "\(dir)/\($0)", encoding: .utf8) }
    }

    func queueCount() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(dataDirectory)/queue")) ?? []).filter { $0.hasSuffix(".msg") }.count
    }
}
