import Directory
import Testing
@testable import Chasquid

/// chasquid users files → Apus users lines with the same scrypt parameters.
@Suite struct ChasquidUserDBTests {
    /// Written by Debian's `chasquid-util user-add alice@example.test --password=secret1` (chasquid 1.11).
    static let realFile = #"""
        users: {
          key: "alice"
          value: {
            scrypt: {
              logN: 14
              r: 8
              p: 1
              keyLen: 32
              salt: "\x9e\x87+`\xb8\xd3n\xa6g\xa4Qޱ\xfc\xc5\xcb"
              encrypted: "\x1dx\x1e\xec\xdc,\xb5\xb1\xdew\xc4R\xaf\xcbmcH\xf0\xa1\t\"?\t\xb0\xffD\x9c\xa6\x90,\x90\x0e"
            }
          }
        }
        """#

    @Test func aRealChasquidHashVerifiesInApus() throws {
        let db = try ChasquidUserDB.parse(Array(Self.realFile.utf8))
        #expect(db.users.map(\.name) == ["alice"])
        guard case .scrypt(let s) = db.users[0].password else { Issue.record("not scrypt"); return }
        #expect(s.logN == 14 && s.r == 8 && s.p == 1 && s.keyLen == 32 && s.salt.count == 16 && s.encrypted.count == 32)
        let (text, imported, notes) = db.apusUsersFile(domain: "example.test", aliases: AliasSettings(), source: "users")
        #expect(imported == ["alice"])
        #expect(notes.isEmpty)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("alice ") })
        let phc = String(line.split(separator: " ").last!)
        #expect(phc.hasPrefix("$scrypt$ln=14,r=8,p=1$"))
        // Apus's own users-file parser accepts the file, and the password is the one chasquid-util was given.
        #expect(try UsersFile.parse(text, path: "users").entries.map(\.name) == ["alice"])
        #expect(PasswordHash.verify(password: "secret1", phc: phc))
        #expect(!PasswordHash.verify(password: "secret2", phc: phc))
    }

    static func entry(_ name: String, _ value: String) -> String { "users: { key: \"\(name)\" value: { \(value) } }\n" }
    static let salt = #"salt: "0123456789abcdef" encrypted: "0123456789abcdef0123456789abcdef""#

    struct Case: Sendable, CustomTestStringConvertible {
        var file: String
        var imported: [String]
        var note: String?
        var testDescription: String { note ?? "imports \(imported)" }
    }

    static let cases: [Case] = [
        .init(file: entry("a", "scrypt { logN: 10 r: 4 p: 2 keyLen: 32 \(salt) }"), imported: ["a"]),
        .init(file: entry("b", "plain { password: \"x\" }"), imported: [], note: "a plain-text password (not imported, never guessed)"),
        .init(file: entry("c", "denied {}"), imported: [], note: "denied in chasquid"),
        .init(file: entry("d", "argon2 {}"), imported: [], note: "unknown password scheme \"argon2\""),
        .init(file: entry("e", ""), imported: [], note: "no password scheme"),
        .init(file: entry("f", "scrypt { logN: 30 r: 8 p: 1 keyLen: 32 \(salt) }"), imported: [], note: "ln must be 1 to 20"),
        .init(file: entry("g", "scrypt { logN: 10 r: 8 p: 1 keyLen: 16 \(salt) }"), imported: [], note: "keyLen 16 but the hash has 32 bytes"),
        .init(file: entry("h+x", "scrypt { logN: 10 r: 8 p: 1 keyLen: 32 \(salt) }"), imported: [], note: "suffix separator"),
        .init(file: entry("jd", "scrypt { logN: 10 r: 8 p: 1 keyLen: 32 \(salt) }") + entry("j.d", "scrypt { logN: 10 r: 8 p: 1 keyLen: 32 \(salt) }"),
              imported: ["jd"], note: "the same address as jd"),
        .init(file: entry("ñandú", "scrypt { logN: 10 r: 8 p: 1 keyLen: 32 \(salt) }"), imported: ["ñandú"]),
    ]

    @Test(arguments: cases) func mapping(_ c: Case) throws {
        let db = try ChasquidUserDB.parse(Array(c.file.utf8))
        let (text, imported, notes) = db.apusUsersFile(domain: "example.com", aliases: AliasSettings(), source: "domains/example.com/users")
        #expect(imported == c.imported)
        if let note = c.note {
            #expect(notes.count == 1 && notes[0].text.contains(note), "\(notes)")
            #expect(notes.first?.source.hasPrefix("domains/example.com/users:") == true)
        } else {
            #expect(notes.isEmpty, "\(notes)")
        }
        _ = try UsersFile.parse(text, path: "users")
    }

    static let malformed: [(String, Int, String)] = [
        ("users: { key: \"a\" value: { scrypt: { logN: 14 } } }", 1, "scrypt has no \"r\""),
        ("users: {\n key: \"a\"\n}\nusers: {\n key: \"a\"\n}", 4, "user \"a\" is given twice (first on line 1)"),
        ("users: {\n value: {}\n}", 1, "has no \"key\""),
        ("people: {}", 1, "unknown field \"people\""),
        ("users: {\n  key: \"a\"\n  value: {\n    scrypt: {\n      logN: x14\n    }\n  }\n}\n", 5, "must be an integer"),
        ("users: {\n  key: \"a\"\n  value: {\n    scrypt: {\n      salt: \"\\x9", 5, "end of file inside a string"),
    ]

    @Test(arguments: malformed) func malformedFilesNameTheLine(_ input: String, _ line: Int, _ reason: String) {
        do {
            _ = try ChasquidUserDB.parse(Array(input.utf8))
            Issue.record("parsed")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }
}
