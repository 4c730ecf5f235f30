import Foundation
import Testing

/// The parts of `apus import chasquid` that need no chasquid binary: certbot-style symbolic links kept,
/// users and alias lines Apus cannot take reported (and the rest imported), an unusable DKIM key refused
/// before anything is written.
@Suite struct ImportChasquidFilesTests {
    static let scrypt = #"scrypt: { logN: 4 r: 8 p: 1 keyLen: 32 salt: "0123456789abcdef" encrypted: "0123456789abcdef0123456789abcdef" }"#

    static func source(in root: String) async throws -> String {
        let source = "\(root)/chasquid", fm = FileManager.default
        try fm.createDirectory(atPath: "\(source)/domains/example.test", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(root)/live/mx.example.test", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(source)/certs/mx.example.test", withIntermediateDirectories: true)
        try "hostname: \"mx.example.test\"\nsmtp_address: \":2525\"\n".write(toFile: "\(source)/chasquid.conf", atomically: true, encoding: .utf8)
        try """
            users: { key: "alice" value: { \(scrypt) } }
            users: { key: "bob" value: { plain: { password: "hunter2" } } }
            users: { key: "carol" value: { denied: {} } }
            """.write(toFile: "\(source)/domains/example.test/users", atomically: true, encoding: .utf8)
        try "info: alice\nout: someone@remote.test via smtp.example.net\n*: alice\n"
            .write(toFile: "\(source)/domains/example.test/aliases", atomically: true, encoding: .utf8)
        for part in ["fullchain.pem", "privkey.pem"] {
            try "not checked\n".write(toFile: "\(root)/live/mx.example.test/\(part)", atomically: true, encoding: .utf8)
            try fm.createSymbolicLink(atPath: "\(source)/certs/mx.example.test/\(part)", withDestinationPath: "../../../live/mx.example.test/\(part)")
        }
        try fm.createDirectory(atPath: "\(source)/certs/example.test", withIntermediateDirectories: true)
        try "old2019\n".write(toFile: "\(source)/domains/example.test/dkim_selector", atomically: true, encoding: .utf8)
        try await ChasquidSource.run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", "\(source)/certs/example.test/dkim_privkey.pem"])
        return source
    }

    @Test func symlinksAreKeptAndWhatCannotBeImportedIsReported() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let source = try await Self.source(in: root)
        let config = "\(root)/apus"
        let result = try await ApusProcess.run(["import", "chasquid", source, "--config", config, "--data-dir", "\(root)/data",
                                                "--queue", "\(root)/none", "--systemd-units", "\(root)/none"])
        #expect(result.status == 0, "\(result.out)\(result.err)")
        for part in ["fullchain.pem", "privkey.pem"] {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: "\(config)/certs/mx.example.test/\(part)")
            #expect(target == "\(root)/live/mx.example.test/\(part)")
        }
        #expect(!result.out.contains("copied: a renewal"), "\(result.out)")
        #expect(!result.out.contains("no fullchain.pem"), "\(result.out)")
        // The key of chasquid's older post-data hook: certs/D/dkim_privkey.pem under domains/D/dkim_selector.
        #expect(try String(contentsOfFile: "\(config)/domains/example.test/dkim/old2019.pem", encoding: .utf8)
                == String(contentsOfFile: "\(source)/certs/example.test/dkim_privkey.pem", encoding: .utf8))
        #expect(result.out.contains("DKIM key old2019._domainkey.example.test"), "\(result.out)")
        let users = try String(contentsOfFile: "\(config)/domains/example.test/users", encoding: .utf8)
        #expect(users.contains("alice  $scrypt$ln=4,r=8,p=1$") && !users.contains("bob") && !users.contains("carol"))
        #expect(result.out.contains("domains/example.test/users:2: user bob@example.test: a plain-text password (not imported, never guessed)"), "\(result.out)")
        #expect(result.out.contains("domains/example.test/users:3: user carol@example.test: denied in chasquid"), "\(result.out)")
        #expect(result.out.contains("domains/example.test/aliases:2: chasquid's `via`"), "\(result.out)")
        let aliases = try String(contentsOfFile: "\(config)/domains/example.test/aliases", encoding: .utf8)
        #expect(aliases.contains("info: alice\n# apus import: not imported (") && aliases.hasSuffix("*: alice\n"))
        let toml = try String(contentsOfFile: "\(config)/apus.toml", encoding: .utf8)
        #expect(toml.contains("mx = [\"0.0.0.0:2525\", \"[::]:2525\"]"), "\(toml)")
        #expect(result.out.contains("submission_address \"systemd\" (chasquid's default): chasquid-submission.socket not found"))
        let resolved = try await ApusProcess.run(["alias", "resolve", "whoever@example.test", "--config", config])
        #expect(resolved.out == "local alice@example.test\n", "\(resolved.out)\(resolved.err)")
    }

    /// The tutorial's layout: /etc/chasquid/certs is a link to certbot's live/ directory, whose files point
    /// into archive/. Apus must link to live/NAME/…, which certbot re-points at each renewal.
    @Test func aCertsDirectoryLinkedToCertbotsLiveDirectoryIsFollowedToLive() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let source = try await Self.source(in: root), fm = FileManager.default
        try fm.removeItem(atPath: "\(source)/certs")
        try fm.createDirectory(atPath: "\(root)/letsencrypt/archive/mx.example.test", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(root)/letsencrypt/live/mx.example.test", withIntermediateDirectories: true)
        for part in ["fullchain", "privkey"] {
            try "v1\n".write(toFile: "\(root)/letsencrypt/archive/mx.example.test/\(part)1.pem", atomically: true, encoding: .utf8)
            try fm.createSymbolicLink(atPath: "\(root)/letsencrypt/live/mx.example.test/\(part).pem",
                                      withDestinationPath: "../../archive/mx.example.test/\(part)1.pem")
        }
        try fm.createSymbolicLink(atPath: "\(source)/certs", withDestinationPath: "\(root)/letsencrypt/live")
        let config = "\(root)/apus"
        let result = try await ApusProcess.run(["import", "chasquid", source, "--config", config, "--data-dir", "\(root)/data"])
        #expect(result.status == 0, "\(result.out)\(result.err)")
        for part in ["fullchain", "privkey"] {
            let target = try fm.destinationOfSymbolicLink(atPath: "\(config)/certs/mx.example.test/\(part).pem")
            #expect(target == "\(root)/letsencrypt/live/mx.example.test/\(part).pem")
            #expect(try String(contentsOfFile: "\(config)/certs/mx.example.test/\(part).pem", encoding: .utf8) == "v1\n")
        }
    }

    @Test func anUnusableDKIMKeyStopsTheImportBeforeAnyWrite() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let source = try await Self.source(in: root)
        let key = "\(source)/domains/example.test/dkim:2024.pem"
        try "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".write(toFile: key, atomically: true, encoding: .utf8)
        let config = "\(root)/apus"
        let result = try await ApusProcess.run(["import", "chasquid", source, "--config", config, "--data-dir", "\(root)/data"])
        #expect(result.status != 0)
        #expect(result.err.contains("\(key): not a DKIM private key Apus can sign with"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: config))
    }
}
