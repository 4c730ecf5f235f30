import Directory
import Foundation
import Testing

/// `apus key create|list|revoke` against the built binary, in a configuration made by `apus init`.
@Suite(.serialized)
struct KeyCommandTests {
    /// CONFIG made by `apus init example.test` plus a second domain; removed by the caller.
    static func config() async throws -> (root: String, config: String) {
        let root = try ApusProcess.temporaryDirectory()
        let config = "\(root)/config"
        let made = try await ApusProcess.run(["init", "example.test", "--config", config, "--data-dir", "\(root)/data"])
        try #require(made.status == 0, "\(made.err)")
        try FileManager.default.createDirectory(atPath: "\(config)/domains/example.org", withIntermediateDirectories: true)
        return (root, config)
    }

    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map(String.init) ?? ""
    }

    @Test func createPrintsTheKeyLastAndStoresOnlyItsHash() async throws {
        let (root, config) = try await Self.config()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try await ApusProcess.run(["key", "create", "EXAMPLE.test", "--config", config, "--name", "Billing app",
                                                "--sender", "billing@example.test", "--sender", "News@Example.TEST", "--daily-limit", "500"])
        try #require(result.status == 0, "\(result.err)")
        let secret = Self.lastLine(result.out)
        let id = try #require(APIKeySecret.keyID(of: secret), "last line is not a key: \(result.out)")
        #expect(result.out.contains("Created API key \(id) for example.test (Billing app)."))
        #expect(result.out.contains("billing@example.test, News@example.test, at most 500 messages a day."))
        #expect(result.out.contains("cannot be shown again"))

        let file = try String(contentsOfFile: "\(config)/domains/example.test/api-keys", encoding: .utf8)
        #expect(!file.contains(secret) && !file.contains(String(secret.suffix(43))))
        #expect(file.contains("\(id)  sha256:"))
        #expect(file.contains("name=Billing%20app"))
        let key = try #require(try MailDirectory.load(configDirectory: config).apiKey(id: id))
        #expect(key.verify(secret))
        #expect(key.senders == ["billing@example.test", "News@example.test"] && key.dailyLimit == 500)
        #expect(key.allows(sender: "news@example.test") && !key.allows(sender: "alice@example.test"))
        #expect(try ApusProcess.mode("\(config)/domains/example.test/api-keys") == 0o640)

        let second = try await ApusProcess.run(["key", "create", "example.test", "--config", config])
        try #require(second.status == 0, "\(second.err)")
        #expect(second.out.contains("It may send as any address of example.test, with no daily limit."))
        #expect(Self.lastLine(second.out) != secret)
    }

    static let refusals: [(arguments: [String], message: String)] = [
        (["example.net"], "example.net is not a local domain"),
        (["example.test", "--sender", "a@example.org"], "sender a@example.org is not in example.test"),
        (["example.test", "--sender", "nobody"], "sender \"nobody\" is not an address"),
        (["example.test", "--daily-limit", "0"], "--daily-limit must be at least 1"),
        (["example.test", "--name", ""], "--name must be non-empty"),
    ]

    @Test func createRefusesBadArguments() async throws {
        let (root, config) = try await Self.config()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (arguments, message) in Self.refusals {
            let result = try await ApusProcess.run(["key", "create", "--config", config] + arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.err.contains(message), "\(arguments): \(result.err)")
            #expect(result.out.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: "\(config)/domains/example.test/api-keys"))
    }

    @Test func listShowsKeysButNeverSecretsAndRevokeRemovesThem() async throws {
        let (root, config) = try await Self.config()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let empty = try await ApusProcess.run(["key", "list", "--config", config])
        #expect(empty.status == 0 && empty.out == "No API keys.\n")

        var secrets: [String] = []
        for arguments in [["example.test", "--name", "web shop", "--daily-limit", "10"], ["example.org", "--sender", "x@example.org"]] {
            let made = try await ApusProcess.run(["key", "create", "--config", config] + arguments)
            try #require(made.status == 0, "\(made.err)")
            secrets.append(Self.lastLine(made.out))
        }
        let ids = try secrets.map { try #require(APIKeySecret.keyID(of: $0)) }

        let all = try await ApusProcess.run(["key", "list", "--config", config])
        #expect(all.status == 0)
        let lines = all.out.split(separator: "\n").map(String.init)
        try #require(lines.count == 3, "\(all.out)")
        #expect(lines[0].split(separator: " ") == ["ID", "DOMAIN", "NAME", "SENDERS", "DAILY-LIMIT", "CREATED"])
        #expect(lines[1].hasPrefix("\(ids[1])  example.org   -         x@example.org  -"))   // by domain
        #expect(lines[2].hasPrefix("\(ids[0])  example.test  web shop  any            10"))
        #expect(lines[2].range(of: "20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$", options: .regularExpression) != nil)
        for secret in secrets { #expect(!all.out.contains(String(secret.suffix(43)))) }

        let one = try await ApusProcess.run(["key", "list", "example.org", "--config", config])
        #expect(one.out.split(separator: "\n").count == 2 && one.out.contains(ids[1]) && !one.out.contains(ids[0]))

        let revoked = try await ApusProcess.run(["key", "revoke", ids[0], "--config", config])
        #expect(revoked.status == 0, "\(revoked.err)")
        #expect(revoked.out.contains("Revoked API key \(ids[0]) of example.test (web shop)."))
        #expect(try MailDirectory.load(configDirectory: config).apiKey(id: ids[0]) == nil)
        // The whole key is accepted in place of its id.
        let bySecret = try await ApusProcess.run(["key", "revoke", secrets[1], "--config", config])
        #expect(bySecret.status == 0, "\(bySecret.err)")

        let again = try await ApusProcess.run(["key", "revoke", ids[0], "--config", config])
        #expect(again.status == 1)
        #expect(again.err.contains("no API key \(ids[0]) in \(config)/domains/*/api-keys"), "\(again.err)")
        let bad = try await ApusProcess.run(["key", "revoke", "nonsense", "--config", config])
        #expect(bad.status == 1 && bad.err.contains("\"nonsense\" is not a key id"))
        let after = try await ApusProcess.run(["key", "list", "--config", config])
        #expect(after.out == "No API keys.\n")
    }

    /// In a root:GROUP 0750 tree (docs/install.md) the new api-keys file is readable by the server's group.
    @Test func newKeysFileTakesTheGroupOfItsDirectory() async throws {
        try ConfigFileOwnershipTests.requireRoot()
        let group = try ConfigFileOwnershipTests.group()
        let (root, config) = try await Self.config()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for command in [["/bin/chown", "-R", "0:\(group)", config], ["/bin/chmod", "-R", "u=rwX,g=rX,o=", config]] {
            let result = try await ApusProcess.runProgram(command[0], Array(command.dropFirst()))
            try #require(result.status == 0, "\(command): \(result.err)")
        }
        let made = try await ApusProcess.run(["key", "create", "example.test", "--config", config])
        try #require(made.status == 0, "\(made.err)")
        let file = try ConfigFileOwnershipTests.owner("\(config)/domains/example.test/api-keys")
        #expect(file.uid == 0 && file.gid == group && file.mode == 0o640, "\(file)")
    }
}
