import Foundation
import Testing
@testable import Directory

@Suite struct MailDirectoryTests {
    static func sample() throws -> TestConfigDirectory {
        try TestConfigDirectory(domains: [
            "example.com": "# staff\nalice \(Fixtures.horse)\njdoe \(Fixtures.empty)\n",
            "Example.ORG": "bob \(Fixtures.horse)\n",
            "empty.test": nil,
        ])
    }

    @Test func loadsDomainsAndUsers() throws {
        let dir = try Self.sample()
        try FileManager.default.createDirectory(atPath: dir.path + "/domains/.git", withIntermediateDirectories: true)
        try dir.write("domains/README", "not a domain")
        let directory = try MailDirectory.load(configDirectory: dir.path)
        #expect(directory.domains == ["empty.test", "example.com", "example.org"])
        #expect(directory.users(in: "example.com") == ["alice", "jdoe"])
        #expect(directory.users(in: "EXAMPLE.org") == ["bob"])
        #expect(directory.users(in: "empty.test") == [])
        #expect(directory.users(in: "nowhere.test") == [])
        #expect(directory.addresses == ["alice@example.com", "jdoe@example.com", "bob@example.org"])
        #expect(directory.passwordHash(user: "alice", domain: "example.com") == Fixtures.horse)
        #expect(directory.passwordHash(user: "carol", domain: "example.com") == nil)
    }

    @Test(arguments: [
        ("example.com", true), ("EXAMPLE.COM", true), ("example.com.", true), ("example.org", true),
        ("empty.test", true), ("example.net", false), ("", false), ("com", false),
    ])
    func localDomains(domain: String, local: Bool) throws {
        let dir = try Self.sample()
        #expect(try MailDirectory.load(configDirectory: dir.path).isLocalDomain(domain) == local)
    }

    @Test(arguments: [
        ("alice", "example.com", "alice"),
        ("ALICE", "Example.Com", "alice"),
        ("alice+news", "example.com", "alice"),
        ("a.l.i.c.e", "example.com", "alice"),
        ("j.doe+x.y", "example.com", "jdoe"),
        ("J.Doe", "example.com", "jdoe"),
        ("carol", "example.com", nil),
        ("alice", "example.org", nil),
        ("alice", "example.net", nil),
        ("+alice", "example.com", nil),
    ] as [(String, String, String?)])
    func canonicalUsers(localPart: String, domain: String, expected: String?) throws {
        let dir = try Self.sample()
        #expect(try MailDirectory.load(configDirectory: dir.path).canonicalUser(localPart: localPart, domain: domain) == expected)
    }

    @Test func dottedUserNamesAreReachable() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": "john.smith \(Fixtures.horse)\n"])
        let directory = try MailDirectory.load(configDirectory: dir.path)
        #expect(directory.canonicalUser(localPart: "john.smith", domain: "example.com") == "john.smith")
        #expect(directory.canonicalUser(localPart: "johnsmith+x", domain: "example.com") == "john.smith")
        #expect(directory.canonicalUser(localPart: "John.Smith+x", domain: "example.com") == "john.smith")
    }

    @Test func customAliasSettings() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": "jdoe \(Fixtures.horse)\n"])
        let directory = try MailDirectory.load(configDirectory: dir.path,
                                               aliases: AliasSettings(dropCharacters: "", suffixSeparators: "-"))
        #expect(directory.canonicalUser(localPart: "jdoe-list", domain: "example.com") == "jdoe")
        #expect(directory.canonicalUser(localPart: "jdoe+list", domain: "example.com") == nil)
        #expect(directory.canonicalUser(localPart: "j.doe", domain: "example.com") == nil)
    }

    @Test(arguments: [
        ("alice@example.com", Fixtures.horsePassword, AuthResult.success(user: "alice", domain: "example.com")),
        ("Alice@EXAMPLE.com", Fixtures.horsePassword, .success(user: "alice", domain: "example.com")),
        ("jdoe@example.com", "", .success(user: "jdoe", domain: "example.com")),
        ("alice@example.com", "wrong", .failure),
        ("alice@example.com", "", .failure),
        ("alice+x@example.com", Fixtures.horsePassword, .failure),
        ("carol@example.com", Fixtures.horsePassword, .failure),
        ("alice@example.net", Fixtures.horsePassword, .failure),
        ("alice", Fixtures.horsePassword, .failure),  // bare user: three local domains here
        ("", "", .failure),
        ("@", "", .failure),
    ])
    func authenticates(username: String, password: String, expected: AuthResult) throws {
        let dir = try Self.sample()
        #expect(try MailDirectory.load(configDirectory: dir.path).authenticate(username: username, password: password) == expected)
    }

    @Test func bareUserWithOneDomain() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": "alice \(Fixtures.horse)\n"])
        let directory = try MailDirectory.load(configDirectory: dir.path)
        #expect(directory.authenticate(username: "alice", password: Fixtures.horsePassword) == .success(user: "alice", domain: "example.com"))
        #expect(directory.authenticate(username: "alice", password: Fixtures.horsePassword).address == "alice@example.com")
        #expect(directory.authenticate(username: "bob", password: Fixtures.horsePassword) == .failure)
    }

    @Test func unknownUsersCostAsMuchAsKnownOnes() throws {
        let dir = try Self.sample()
        let directory = try MailDirectory.load(configDirectory: dir.path)
        // The dummy hash has the parameters of the real ones, so an unknown user runs the same scrypt.
        #expect(directory.dummyHash.logN == 10)
        #expect(!directory.dummyHash.verify(password: ""))
        #expect(!directory.dummyHash.verify(password: Fixtures.horsePassword))
    }

    @Test func noDomainsDirectory() throws {
        let dir = try TestConfigDirectory()
        try FileManager.default.removeItem(atPath: dir.path + "/domains")
        let directory = try MailDirectory.load(configDirectory: dir.path)
        #expect(directory.domains.isEmpty)
        #expect(directory.authenticate(username: "a@b", password: "") == .failure)
    }

    @Test func errorsNameTheFileAndLine() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": "alice \(Fixtures.horse)\n\nbob nothash\n"])
        #expect {
            try MailDirectory.load(configDirectory: dir.path)
        } throws: { error in
            "\(error)" == "\(dir.path)/domains/example.com/users:3: user \"bob\": bad password hash: expected $scrypt$ln=15,r=8,p=1$SALT$HASH"
        }
    }

    @Test func domainsDifferingOnlyInCase() throws {
        let dir = try TestConfigDirectory(domains: ["example.com": nil, "EXAMPLE.com": nil])
        #expect(throws: DirectoryError.self) { try MailDirectory.load(configDirectory: dir.path) }
    }
}
