import Foundation
import Testing
@testable import Directory

@Suite struct APIKeyFileEditorTests {
    static func key(_ id: String, domain: String = "example.com") -> APIKey {
        APIKey(id: id, domain: domain, hash: "sha256:" + String(repeating: "0", count: 64), name: "k \(id)")
    }

    @Test func addCreatesTheFileAndTheDirectoryLoadsIt() throws {
        let dir = try TestConfigDirectory(domains: ["Example.com": nil, "example.org": nil])
        let (secret, key) = APIKeySecret.generate(domain: "example.com", name: "app", senders: [], dailyLimit: nil, now: Date())
        let path = try APIKeyFileEditor.add(key, configDirectory: dir.path)
        #expect(path == dir.path + "/domains/Example.com/api-keys")
        let text = try dir.read("domains/Example.com/api-keys")
        #expect(text.hasPrefix("# API keys of example.com"))
        #expect(text.hasSuffix(APIKeysFile.render([key])))
        #expect(!text.contains(String(secret.suffix(43))))   // only the hash is kept
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o640)

        let directory = try MailDirectory.load(configDirectory: dir.path)
        let id = try #require(APIKeySecret.keyID(of: secret))
        let loaded = try #require(directory.apiKey(id: id))
        #expect(loaded == key)
        #expect(loaded.verify(secret))
        #expect(directory.apiKey(presented: secret) == key)
        #expect(directory.apiKey(presented: String(secret.dropLast()) + (secret.last == "A" ? "B" : "A")) == nil)
        #expect(directory.apiKey(presented: "apus_000000000000_" + String(secret.suffix(43))) == nil)
        #expect(directory.apiKey(presented: "Bearer " + secret) == nil)
        #expect(directory.apiKeys(in: "EXAMPLE.COM") == [key])
        #expect(directory.apiKeys(in: "example.org").isEmpty)
        #expect(directory.apiKey(id: "000000000000") == nil)
    }

    @Test func revokeRemovesOnlyThatLine() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": nil, "example.org": nil])
        let original = "# mine\n\(APIKeysFile.render([Self.key("aaaaaaaaaaaa")]))# keep me\n"
        try dir.write("domains/example.com/api-keys", original)
        try APIKeyFileEditor.add(Self.key("bbbbbbbbbbbb"), configDirectory: dir.path)
        try APIKeyFileEditor.add(Self.key("cccccccccccc", domain: "example.org"), configDirectory: dir.path)
        #expect(try MailDirectory.load(configDirectory: dir.path).apiKeys().map(\.id) == ["aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"])

        let revoked = try APIKeyFileEditor.revoke(id: "aaaaaaaaaaaa", configDirectory: dir.path)
        #expect(revoked.id == "aaaaaaaaaaaa" && revoked.domain == "example.com")
        #expect(try dir.read("domains/example.com/api-keys") == "# mine\n# keep me\n" + APIKeysFile.render([Self.key("bbbbbbbbbbbb")]))
        #expect(try APIKeyFileEditor.revoke(id: "cccccccccccc", configDirectory: dir.path).domain == "example.org")
        #expect(throws: DirectoryError.self) { try APIKeyFileEditor.revoke(id: "aaaaaaaaaaaa", configDirectory: dir.path) }
        #expect(try MailDirectory.load(configDirectory: dir.path).apiKeys().map(\.id) == ["bbbbbbbbbbbb"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/domains/example.com").sorted() == ["api-keys"])
    }

    @Test func addRefusesAnUnknownDomainAndABrokenFile() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": nil])
        #expect(throws: DirectoryError.self) { try APIKeyFileEditor.add(Self.key("aaaaaaaaaaaa", domain: "example.net"), configDirectory: dir.path) }
        try dir.write("domains/example.com/api-keys", "garbage\n")
        #expect(throws: DirectoryError(path: dir.path + "/domains/example.com/api-keys", line: 1,
                                       reason: "expected `ID  sha256:HASH  [sender=ADDR ...] [name=NAME] [daily-limit=N] [created=TIME]`")) {
            try APIKeyFileEditor.add(Self.key("aaaaaaaaaaaa"), configDirectory: dir.path)
        }
        #expect(try dir.read("domains/example.com/api-keys") == "garbage\n")
        #expect(throws: DirectoryError.self) { try MailDirectory.load(configDirectory: dir.path) }
    }

    @Test func theSameIdInTwoDomainsIsAnError() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": nil, "example.org": nil])
        try dir.write("domains/example.com/api-keys", APIKeysFile.render([Self.key("aaaaaaaaaaaa")]))
        try dir.write("domains/example.org/api-keys", APIKeysFile.render([Self.key("aaaaaaaaaaaa", domain: "example.org")]))
        #expect(throws: DirectoryError(path: dir.path + "/domains/example.org/api-keys",
                                       reason: "key id aaaaaaaaaaaa is also a key of example.com; revoke one of them")) {
            try MailDirectory.load(configDirectory: dir.path)
        }
    }
}
