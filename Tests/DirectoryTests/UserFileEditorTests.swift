import Foundation
import Testing
@testable import Directory

@Suite struct UserFileEditorTests {
    static let original = "# Users of example.com\n\nalice  \(Fixtures.horse)\n# bob left\njdoe \(Fixtures.empty)"

    @Test func addKeepsEverythingElse() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": Self.original])
        let phc = try PasswordHash.make(password: "pw", logN: 10)
        try UserFileEditor.add(user: "carol", domain: "EXAMPLE.COM", phc: phc, configDirectory: dir.path)
        #expect(try dir.read("domains/example.com/users") == Self.original + "\ncarol  \(phc)\n")
        let directory = try MailDirectory.load(configDirectory: dir.path)
        #expect(directory.authenticate(username: "carol@example.com", password: "pw") == .success(user: "carol", domain: "example.com"))
        // No temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/domains/example.com") == ["users"])
    }

    @Test func addCreatesTheUsersFile() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": nil])
        try UserFileEditor.add(user: "alice", domain: "example.com", phc: Fixtures.horse, configDirectory: dir.path)
        #expect(try dir.read("domains/example.com/users") == "alice  \(Fixtures.horse)\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.path + "/domains/example.com/users")
        #expect((attributes[.posixPermissions] as? Int) == 0o640)
    }

    @Test func addKeepsTheFileMode() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": Self.original])
        let path = dir.path + "/domains/example.com/users"
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try UserFileEditor.add(user: "carol", domain: "example.com", phc: Fixtures.horse, configDirectory: dir.path)
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600)
    }

    @Test(arguments: [
        ("alice", "user alice@example.com already exists"),
        ("a.lice", "user \"alice\" already receives the mail of a.lice@example.com (drop characters are ignored)"),
        ("Alice", "user name \"Alice\" has capital letters; write \"alice\""),
        ("alice+x", "suffix separator"),
    ])
    func addRefuses(user: String, message: String) throws {
        let dir = try TestConfigDirectory(domains: ["example.com": Self.original])
        #expect {
            try UserFileEditor.add(user: user, domain: "example.com", phc: Fixtures.horse, configDirectory: dir.path)
        } throws: { error in
            let ok = "\(error)".contains(message)
            if !ok { Issue.record("got: \(error)") }
            return ok
        }
        #expect(try dir.read("domains/example.com/users") == Self.original)
    }

    @Test func unknownDomain() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": Self.original])
        #expect {
            try UserFileEditor.add(user: "x", domain: "Example.NET", phc: Fixtures.horse, configDirectory: dir.path)
        } throws: { error in
            "\(error)" == "\(dir.path)/domains/example.net: unknown domain example.net, create it with `apus init example.net`"
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/domains/example.net"))
    }

    @Test func badHashRefused() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": nil])
        #expect(throws: DirectoryError.self) {
            try UserFileEditor.add(user: "x", domain: "example.com", phc: "plain", configDirectory: dir.path)
        }
    }

    @Test func brokenFileIsLeftAlone() throws {
        let broken = "alice \(Fixtures.horse)\nbob\n"
        let dir = try TestConfigDirectory(domains: ["example.com": broken])
        #expect {
            try UserFileEditor.add(user: "carol", domain: "example.com", phc: Fixtures.horse, configDirectory: dir.path)
        } throws: { error in
            "\(error)".hasSuffix("/domains/example.com/users:2: user \"bob\" has no password hash; expected `name  $scrypt$…`")
        }
        #expect(try dir.read("domains/example.com/users") == broken)
    }

    @Test func removeKeepsEverythingElse() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": Self.original])
        try UserFileEditor.remove(user: "alice", domain: "example.com", configDirectory: dir.path)
        #expect(try dir.read("domains/example.com/users") == "# Users of example.com\n\n# bob left\njdoe \(Fixtures.empty)\n")
        #expect {
            try UserFileEditor.remove(user: "alice", domain: "example.com", configDirectory: dir.path)
        } throws: { error in
            "\(error)".hasSuffix("users: no user alice@example.com")
        }
    }

    @Test func setPasswordReplacesTheHash() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": Self.original])
        let phc = try PasswordHash.make(password: "new", logN: 10)
        try UserFileEditor.setPassword(user: "jdoe", domain: "example.com", phc: phc, configDirectory: dir.path)
        #expect(try dir.read("domains/example.com/users") == "# Users of example.com\n\nalice  \(Fixtures.horse)\n# bob left\njdoe  \(phc)\n")
        let directory = try MailDirectory.load(configDirectory: dir.path)
        #expect(directory.authenticate(username: "jdoe@example.com", password: "new") == .success(user: "jdoe", domain: "example.com"))
        #expect(directory.authenticate(username: "jdoe@example.com", password: "") == .failure)
        #expect(throws: DirectoryError.self) {
            try UserFileEditor.setPassword(user: "carol", domain: "example.com", phc: phc, configDirectory: dir.path)
        }
    }

    @Test func concurrentAddsAreNotLost() async throws {
        let dir = try TestConfigDirectory(domains: ["example.com": nil])
        let path = dir.path
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask {
                    try? UserFileEditor.add(user: "user\(i)", domain: "example.com", phc: Fixtures.horse, configDirectory: path)
                }
            }
        }
        #expect(try MailDirectory.load(configDirectory: dir.path).users(in: "example.com").count == 8)
    }
}
