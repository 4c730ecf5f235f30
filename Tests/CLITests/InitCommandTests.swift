import Config
import DKIM
import Directory
import Foundation
import Testing

/// `apus init` (`Sources/CLI/InitCommand.swift`), run as the built binary in a temporary directory.
@Suite struct InitCommandTests {
    /// Fast scrypt for tests (the hidden option `apus user add` has too).
    static let fast = ["--scrypt-log-n", "4"]

    static func initialize(_ root: String, _ extra: [String] = [], input: String = "") async throws -> ApusProcess.Result {
        try await ApusProcess.run(["init", "example.com", "--config", "\(root)/config", "--data-dir", "\(root)/data"]
                                  + fast + extra, input: input)
    }

    /// Every file, with its mode; then a second run keeps everything byte for byte and says so.
    @Test func createsEverythingThenKeepsIt() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = "\(root)/config", domain = "\(config)/domains/example.com"

        let first = try await Self.initialize(root, ["--user", "alice", "--password", "correct horse", "--ip", "203.0.113.7"])
        #expect(first.status == 0, "\(first.err)")
        let expected: [(String, Int)] = [
            ("\(config)/apus.toml", 0o644),
            ("\(domain)/users", 0o640),
            ("\(domain)/aliases", 0o644),
            ("\(domain)/dkim/apus-ed25519.pem", 0o600),
            ("\(domain)/dkim/apus-rsa.pem", 0o600),
            ("\(config)/certs/mx.example.com/fullchain.pem", 0o644),
            ("\(config)/certs/mx.example.com/privkey.pem", 0o600),
            ("\(root)/data/state/srs.secret", 0o600),
        ]
        for (path, mode) in expected {
            #expect(FileManager.default.fileExists(atPath: path), "missing \(path)")
            #expect(try ApusProcess.mode(path) == mode, "mode of \(path)")
            #expect(first.out.contains("created  \(path)") || path.hasPrefix("\(config)/certs"), "not reported: \(path)")
        }
        #expect(first.out.contains("created  \(config)/certs/mx.example.com/"))
        #expect(first.out.contains("created  alice@example.com"))

        // The configuration is what the server will load.
        let loaded = try ApusConfig.load(configDirectory: config)
        #expect(loaded.hostname == "mx.example.com")
        #expect(loaded.dataDir == "\(root)/data")
        let keys = try DKIMKeyStore.load(configDirectory: config, domain: "example.com")
        #expect(keys.map(\.selector) == ["apus-ed25519", "apus-rsa"])
        #expect(keys.map(\.algorithm) == [.ed25519SHA256, .rsaSHA256])
        let directory = try MailDirectory.load(configDirectory: config)
        #expect(directory.users(in: "example.com") == ["alice"])
        let aliases = try String(contentsOfFile: "\(domain)/aliases", encoding: .utf8)
        #expect(aliases.contains("#   *: someone@gmail.com"))
        #expect(try AliasesFile.parse(aliases, path: "aliases", domain: "example.com").entries.isEmpty)

        // The next steps, numbered, with the commands and Gmail's settings.
        #expect(first.out.contains("1. Publish the DNS records"))
        #expect(first.out.contains("apus dns records example.com --config \(config) --ip 203.0.113.7"))
        #expect(first.out.contains("certbot certonly --standalone -d mx.example.com"))
        #expect(first.out.contains("acme.sh --install-cert -d mx.example.com --fullchain-file \(config)/certs/mx.example.com/fullchain.pem"))
        #expect(first.out.contains("apus serve --config \(config)"))
        #expect(first.out.contains("apus check example.com"))
        #expect(first.out.contains("SMTP Server   mx.example.com"))
        #expect(first.out.contains("Port          587"))
        #expect(first.out.contains("Username      alice@example.com"))

        // Authentication works with the password given.
        let auth = try await ApusProcess.run(["authenticate", "--config", config, "alice@example.com", "--password", "correct horse"])
        #expect(auth.status == 0, "\(auth.out)\(auth.err)")

        let before = try expected.map { try Data(contentsOf: URL(fileURLWithPath: $0.0)) }
        let second = try await Self.initialize(root, ["--user", "alice", "--password", "other-password", "--hostname", "mail.example.com"])
        #expect(second.status == 0, "\(second.err)")
        let after = try expected.map { try Data(contentsOf: URL(fileURLWithPath: $0.0)) }
        #expect(before == after, "a second run changed a file")
        #expect(!second.out.contains("created"))
        for (path, _) in expected where !path.hasPrefix("\(config)/certs") {
            #expect(second.out.contains("kept     \(path)"), "not reported as kept: \(path)")
        }
        #expect(second.out.contains("kept     \(config)/certs/mx.example.com/"))
        #expect(second.out.contains("kept     alice@example.com  (user already there; password not changed"))
        #expect(second.out.contains("--hostname mail.example.com not applied"))
        let stillOld = try await ApusProcess.run(["authenticate", "--config", config, "alice@example.com", "--password", "correct horse"])
        #expect(stillOld.status == 0)
    }

    /// Without --password the password is read from standard input when it is not a terminal.
    @Test func userPasswordFromStandardInput() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try await Self.initialize(root, ["--user", "bob@Example.com"], input: "from stdin\n")
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("created  bob@example.com"))
        let auth = try await ApusProcess.run(["authenticate", "--config", "\(root)/config", "bob@example.com", "--password", "from stdin"])
        #expect(auth.status == 0)
        // No user and no password: a mistake caught before anything is written.
        let wrong = try await ApusProcess.run(["init", "example.org", "--config", "\(root)/c2", "--password", "x"])
        #expect(wrong.status != 0)
        #expect(wrong.err.contains("--password needs --user"))
        #expect(!FileManager.default.fileExists(atPath: "\(root)/c2"))
    }

    /// A bad password (too short, or empty from a pipe) stops init before it writes anything: no config,
    /// no keys, no certificate left behind for a second attempt to trip over.
    @Test func badPasswordIsRefusedBeforeAnyFileIsWritten() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let short = try await Self.initialize(root, ["--user", "alice", "--password", "abc"])
        #expect(short.status != 0)
        #expect(short.err.contains("password too short (3 characters); use at least 8"), "\(short.err)")
        #expect(!FileManager.default.fileExists(atPath: "\(root)/config"))

        let piped = try await Self.initialize(root, ["--user", "alice"], input: "short\n")
        #expect(piped.status != 0)
        #expect(piped.err.contains("password too short (5 characters)"), "\(piped.err)")
        #expect(!FileManager.default.fileExists(atPath: "\(root)/config"), "init wrote files before checking the password")

        let empty = try await Self.initialize(root, ["--user", "alice"])
        #expect(empty.status != 0)
        #expect(!FileManager.default.fileExists(atPath: "\(root)/config"))
    }

    /// `apus user add` refuses a password shorter than 8 characters and says so.
    @Test func userAddRequiresAMinimumPasswordLength() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try await Self.initialize(root).status == 0)
        let add = try await ApusProcess.run(["user", "add", "bob@example.com", "--password", "x", "--config", "\(root)/config"] + Self.fast)
        #expect(add.status != 0)
        #expect(add.err.contains("password too short (1 characters); use at least 8"), "\(add.err)")
        let ok = try await ApusProcess.run(["user", "add", "bob@example.com", "--password", "long enough", "--config", "\(root)/config"] + Self.fast)
        #expect(ok.status == 0, "\(ok.err)")
    }

    /// A second domain in the same configuration: apus.toml, certificate and SRS secret are kept.
    @Test func secondDomainAddsOnlyItsOwnFiles() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try await Self.initialize(root, ["--hostname", "mail.example.com"])
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out.contains("3. Add a user"))
        let toml = try Data(contentsOf: URL(fileURLWithPath: "\(root)/config/apus.toml"))
        let second = try await ApusProcess.run(["init", "example.org", "--config", "\(root)/config"] + Self.fast)
        #expect(second.status == 0, "\(second.err)")
        #expect(second.out.contains("kept     \(root)/config/apus.toml"))
        #expect(second.out.contains("created  \(root)/config/domains/example.org/dkim/apus-rsa.pem"))
        #expect(second.out.contains("kept     \(root)/config/certs/mail.example.com/"))
        #expect(second.out.contains("kept     \(root)/data/state/srs.secret"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(root)/config/apus.toml")) == toml)
        let directory = try MailDirectory.load(configDirectory: "\(root)/config")
        #expect(directory.isLocalDomain("example.org") && directory.isLocalDomain("example.com"))
    }

    /// A data directory that cannot be created (not even by root: /proc): the SRS secret is left to the server.
    @Test func unwritableDataDirectoryLeavesTheSRSSecretForLater() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try await ApusProcess.run(["init", "example.com", "--config", "\(root)/config",
                                                "--data-dir", "/proc/apus-cannot-exist"] + Self.fast)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("later    /proc/apus-cannot-exist/state/srs.secret"))
        #expect(result.out.contains("creates it at first start"))
    }
}
