import Certificates
import Config
import DNSCore
import Foundation
import Logging
import MailServer
import NIOConcurrencyHelpers
import NIOSSL
import ServiceLifecycle
import SMTPProtocol
import Testing

/// Issue 7: "Certificate reload: replace the files under load; new connections see the new certificate,
/// none fail." Four clients connect over and over (STARTTLS on submission, implicit TLS on submissions)
/// while the certificate is renewed the ways real tools do it; every handshake must succeed with the old
/// or the new certificate, never anything else, and soon every new connection gets the new one.
@Suite(.serialized)
struct CertificateReloadLoadTests {
    /// How a renewal tool replaces `certs/<name>/fullchain.pem` and `privkey.pem`.
    enum Renewal: String, CaseIterable, CustomTestStringConvertible, Sendable {
        /// The two files are symbolic links into `archive/`, each re-pointed by renaming a new link over it
        /// (what certbot does to `live/`), the key first: for a moment the new key sits beside the old certificate.
        case certbotRenamedLinks
        /// The two files link to certbot's `live/` links (set up once by the admin); the renewal re-points
        /// only those, so the files apus watches never change themselves, only what they lead to.
        case certbotLinksToLive
        /// acme.sh `--install-cert` (and `cp` in a certbot deploy hook): fullchain.pem, then privkey.pem,
        /// each overwritten in place. Between the two the new certificate sits beside the old key.
        case acmeShInPlace
        /// A slow writer: each file is first seen half written, then complete.
        case halfWrittenFiles

        var testDescription: String { rawValue }
    }

    static let name = "mx.example.test"
    /// Long enough that the watcher (every 200 ms here) sees the state between the two writes.
    static let window: Duration = .milliseconds(600)

    @Test(arguments: Renewal.allCases)
    func renewalUnderLoad(_ renewal: Renewal) async throws {
        let started = ContinuousClock.now
        let a = try Self.makeCertificate(), b = try Self.makeCertificate()
        let log = CapturedLog()
        let server = try await TestServer(configure: { $0.limits.maxConnectionsPerIP = 200 },
                                          selfSignedCertificate: false, log: log,
                                          prepare: { config in try Self.install(a, renewal: renewal, config: config) })
        #expect(await Self.connect(server, starttls: false) == .served(a.der))

        // A session opened before the renewal and upgraded after it must work too.
        let held = try await TestClient(port: server.ports[.submission]!)
        #expect(try await held.readLine()?.hasPrefix("220 ") == true)

        let stop = NIOLockedValueBox(false)
        let load = Task {
            try await withThrowingTaskGroup(of: [Outcome].self) { group in
                for worker in 0..<4 {   // 4 loops: load enough, without starving the tests that run beside it
                    group.addTask {
                        var outcomes: [Outcome] = []
                        // Bounded in count and in time, whatever happens to `stop`.
                        let deadline = ContinuousClock.now + .seconds(8)
                        while outcomes.count < 300, ContinuousClock.now < deadline, !stop.withLockedValue({ $0 }) {
                            outcomes.append(await Self.connect(server, starttls: (worker + outcomes.count) % 2 == 0))
                        }
                        return outcomes
                    }
                }
                var all: [[Outcome]] = []
                for try await outcomes in group { all.append(outcomes) }
                return all
            }
        }

        try await Task.sleep(for: .milliseconds(500))
        try await Self.renew(to: b, renewal: renewal, config: server.configDirectory)
        let renewed = ContinuousClock.now
        // New connections get the new certificate within a few polls.
        var settled: Duration?
        while ContinuousClock.now < renewed + .seconds(3) {
            if await Self.connect(server, starttls: false) == .served(b.der) {
                settled = ContinuousClock.now - renewed
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(400))
        stop.withLockedValue { $0 = true }
        let perWorker = try await load.value

        #expect(settled != nil, "new connections still get the old certificate 3 s after the renewal")
        let outcomes = perWorker.flatMap { $0 }
        let failures = outcomes.compactMap { if case .failed(let why) = $0 { why } else { nil } }
        #expect(failures.isEmpty, "\(failures.count) of \(outcomes.count) connections failed: \(Set(failures))")
        let strangers = outcomes.filter { $0 != .served(a.der) && $0 != .served(b.der) && !$0.isFailure }
        #expect(strangers.isEmpty, "\(strangers.count) connections got a certificate that is neither the old nor the new one")
        for worker in perWorker {
            // One client's connections follow each other, so once it sees the new certificate it never sees the old one again.
            if let first = worker.firstIndex(of: .served(b.der)) {
                #expect(!worker[first...].contains(.served(a.der)), "the old certificate came back after the new one")
            }
        }
        let newCount = outcomes.filter { $0 == .served(b.der) }.count
        #expect(outcomes.count >= 40 && newCount >= 8, "too little load to mean anything: \(outcomes.count) connections, \(newCount) with the new certificate")

        // The session opened before the renewal still upgrades to TLS and works.
        try await held.send(Array("EHLO held.test\r\n".utf8))
        while let line = try await held.readLine(timeout: .seconds(5)), line.hasPrefix("250-") {}
        try await held.send(Array("STARTTLS\r\n".utf8))
        #expect(try await held.readLine(timeout: .seconds(5))?.hasPrefix("220 ") == true)
        try await held.startTLS()
        try await held.send(Array("EHLO held.test\r\n".utf8))
        var last: String?
        while let line = try await held.readLine(timeout: .seconds(5)) { last = line; if !line.hasPrefix("250-") { break } }
        #expect(last?.hasPrefix("250 ") == true, "a session opened before the renewal failed its STARTTLS after it")
        await held.close()

        // The log: nothing critical; a refused half-renewed pair is one error line naming its file.
        let entries = log.entries
        #expect(!entries.contains { $0.level == .critical }, "\(entries.filter { $0.level == .critical })")
        let errors = entries.filter { $0.level >= .error }
        for error in errors {
            let namesFile = error.message.contains("/certs/\(Self.name)/fullchain.pem: ")
                || error.message.contains("/certs/\(Self.name)/privkey.pem: ")
            #expect(error.message.hasPrefix("reload failed, keeping the previous state: ") && namesFile,
                    "unexpected error: \(error.message)")
        }
        if renewal != .halfWrittenFiles {
            // The watcher saw the new certificate with the old key (or the reverse) and refused the pair.
            #expect(errors.contains { $0.message.contains("privkey.pem: does not match the certificate in ") },
                    "the mismatched pair was not refused: \(errors.map(\.message))")
        }
        #expect(!entries.contains { $0.message == "stopped" }, "the server stopped")
        #expect(await Self.connect(server, starttls: true) == .served(b.der))
        await server.stop()
        print("""
            certificate reload under load (\(renewal)): \(outcomes.count) connections, \(failures.count) failed, \
            \(outcomes.count - newCount) old / \(newCount) new certificate, new served \(settled.map { "\($0)" } ?? "never") \
            after the renewal, \(errors.count) refused reloads, \(ContinuousClock.now - started) in all
            """)
    }

    // MARK: - Clients

    enum Outcome: Hashable, Sendable {
        /// The DER of the leaf certificate the server presented.
        case served([UInt8])
        case failed(String)
        var isFailure: Bool { if case .failed = self { true } else { false } }
    }

    /// One connection: TLS (STARTTLS on submission or implicit on submissions), the leaf certificate, QUIT.
    static func connect(_ server: TestServer, starttls: Bool) async -> Outcome {
        let client: TestClient
        do {
            client = try await TestClient(port: server.ports[starttls ? .submission : .submissions]!, implicitTLS: !starttls)
        } catch {
            return .failed("connect: \(error)")
        }
        let outcome = await session(client, starttls: starttls)
        await client.close()
        return outcome
    }

    static func session(_ client: TestClient, starttls: Bool) async -> Outcome {
        let timeout: Duration = .seconds(5)
        func expect(_ prefix: String, _ step: String) async throws -> String? {
            while true {
                guard let line = try await client.readLine(timeout: timeout) else { return "\(step): connection closed" }
                if line.hasPrefix(prefix + "-") { continue }
                return line.hasPrefix(prefix + " ") ? nil : "\(step): \(line)"
            }
        }
        do {
            if let problem = try await expect("220", "greeting") { return .failed(problem) }
            if starttls {
                try await client.send(Array("EHLO load.test\r\n".utf8))
                if let problem = try await expect("250", "EHLO") { return .failed(problem) }
                try await client.send(Array("STARTTLS\r\n".utf8))
                if let problem = try await expect("220", "STARTTLS") { return .failed(problem) }
                try await client.startTLS()
                try await client.send(Array("EHLO load.test\r\n".utf8))
                if let problem = try await expect("250", "EHLO after STARTTLS") { return .failed(problem) }
            }
            guard let leaf = try await client.peerCertificate() else { return .failed("no certificate") }
            try await client.send(Array("QUIT\r\n".utf8))
            if let problem = try await expect("221", "QUIT") { return .failed(problem) }
            return .served(try leaf.toDERBytes())
        } catch {
            return .failed("\(error)")
        }
    }

    // MARK: - Certificates on disk

    struct Pair {
        let chain: String, key: String, der: [UInt8]
    }

    static func makeCertificate() throws -> Pair {
        let (chain, key) = try SelfSignedCertificate.generate(hostname: name, ipAddresses: [[127, 0, 0, 1]])
        return Pair(chain: chain, key: key, der: try NIOSSLCertificate(bytes: Array(chain.utf8), format: .pem).toDERBytes())
    }

    /// certbot's layout, under the temporary root: `letsencrypt/archive/<name>/fullchainN.pem` and
    /// `letsencrypt/live/<name>/fullchain.pem` → `../../archive/<name>/fullchainN.pem`.
    static func letsencrypt(_ config: String) -> String { config + "/../letsencrypt" }

    /// Puts the first certificate in place the way the renewal case expects to find it.
    static func install(_ pair: Pair, renewal: Renewal, config: String) throws {
        let dir = "\(config)/certs/\(name)"
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        switch renewal {
        case .certbotRenamedLinks, .certbotLinksToLive:
            let archive = "\(letsencrypt(config))/archive/\(name)", live = "\(letsencrypt(config))/live/\(name)"
            try fm.createDirectory(atPath: archive, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: live, withIntermediateDirectories: true)
            try pair.chain.write(toFile: "\(archive)/fullchain1.pem", atomically: true, encoding: .utf8)
            try pair.key.write(toFile: "\(archive)/privkey1.pem", atomically: true, encoding: .utf8)
            for file in ["fullchain", "privkey"] {
                if renewal == .certbotRenamedLinks {
                    try fm.createSymbolicLink(atPath: "\(dir)/\(file).pem", withDestinationPath: "\(archive)/\(file)1.pem")
                } else {
                    try fm.createSymbolicLink(atPath: "\(live)/\(file).pem", withDestinationPath: "../../archive/\(name)/\(file)1.pem")
                    try fm.createSymbolicLink(atPath: "\(dir)/\(file).pem", withDestinationPath: "\(live)/\(file).pem")
                }
            }
        case .acmeShInPlace, .halfWrittenFiles:
            try pair.chain.write(toFile: "\(dir)/fullchain.pem", atomically: true, encoding: .utf8)
            try pair.key.write(toFile: "\(dir)/privkey.pem", atomically: true, encoding: .utf8)
        }
    }

    /// Replaces the certificate while the clients run.
    static func renew(to pair: Pair, renewal: Renewal, config: String) async throws {
        let dir = "\(config)/certs/\(name)"
        switch renewal {
        case .certbotRenamedLinks, .certbotLinksToLive:
            let archive = "\(letsencrypt(config))/archive/\(name)", live = "\(letsencrypt(config))/live/\(name)"
            try pair.chain.write(toFile: "\(archive)/fullchain2.pem", atomically: true, encoding: .utf8)
            try pair.key.write(toFile: "\(archive)/privkey2.pem", atomically: true, encoding: .utf8)
            // certbot updates the key's link before the full chain's.
            for file in ["privkey", "fullchain"] {
                let link = renewal == .certbotRenamedLinks ? "\(dir)/\(file).pem" : "\(live)/\(file).pem"
                let target = renewal == .certbotRenamedLinks ? "\(archive)/\(file)2.pem" : "../../archive/\(name)/\(file)2.pem"
                try FileManager.default.createSymbolicLink(atPath: link + ".new", withDestinationPath: target)
                guard rename(link + ".new", link) == 0 else { throw CocoaError(.fileWriteUnknown) }
                if file == "privkey" { try await Task.sleep(for: window) }
            }
        case .acmeShInPlace:
            try overwrite("\(dir)/fullchain.pem", with: pair.chain)
            try await Task.sleep(for: window)
            try overwrite("\(dir)/privkey.pem", with: pair.key)
        case .halfWrittenFiles:
            for (file, text) in [("fullchain", pair.chain), ("privkey", pair.key)] {
                let handle = try #require(FileHandle(forWritingAtPath: "\(dir)/\(file).pem"))
                let bytes = Data(text.utf8)
                try handle.truncate(atOffset: 0)
                try handle.write(contentsOf: bytes.prefix(bytes.count / 2))
                try await Task.sleep(for: window)
                try handle.write(contentsOf: bytes.dropFirst(bytes.count / 2))
                try handle.close()
            }
        }
    }

    /// In place, like `cat new > file`: the same inode, truncated, then written.
    static func overwrite(_ path: String, with text: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }
}

/// A `LogHandler` that keeps every line (and prints them when APUS_TEST_LOG is set).
struct CapturedLog: LogHandler, Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
    }
    private let box = NIOLockedValueBox<[Entry]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    var entries: [Entry] { box.withLockedValue { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        box.withLockedValue { $0.append(Entry(level: event.level, message: "\(event.message)")) }
        if ProcessInfo.processInfo.environment["APUS_TEST_LOG"] != nil { print("[\(event.level)] \(event.message)") }
    }
}
