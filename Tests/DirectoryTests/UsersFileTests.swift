import Foundation
import Testing
@testable import Directory

@Suite struct UsersFileTests {
    @Test func parsesUsersCommentsAndBlankLines() throws {
        let text = """
            # users of example.com

            alice  \(Fixtures.horse)
            \tbob\t\t\(Fixtures.empty)   \r
              # indented comment
            j.doe \(Fixtures.horse)
            """
        let file = try UsersFile.parse(text, path: "/etc/apus/domains/example.com/users")
        #expect(file.entries.map(\.name) == ["alice", "bob", "j.doe"])
        #expect(file.entries.map(\.line) == [3, 4, 6])
        #expect(file.entries[1].phc == Fixtures.empty)
        #expect(file.text == text.replacingOccurrences(of: "\r\n", with: "\n") + "\n")
    }

    static let bad: [(text: String, message: String)] = [
        ("alice", "P:1: user \"alice\" has no password hash; expected `name  $scrypt$…`"),
        ("alice $scrypt$x y", "P:1: expected `name  $scrypt$…`, found 3 fields"),
        ("\nalice  plaintext", "P:2: user \"alice\": bad password hash: expected $scrypt$ln=15,r=8,p=1$SALT$HASH"),
        ("alice \(Fixtures.horse)\nalice \(Fixtures.empty)", "P:2: duplicate user \"alice\" (first on line 1)"),
        ("jdoe \(Fixtures.horse)\nj.doe \(Fixtures.empty)",
         "P:2: user \"j.doe\" is the same address as \"jdoe\" on line 1 once drop characters are removed"),
        ("Alice \(Fixtures.horse)", "P:1: user name \"Alice\" has capital letters; write \"alice\""),
        ("al@ice \(Fixtures.horse)", "P:1: user name \"al@ice\" contains \"@\", which is not allowed"),
        ("al\"ice \(Fixtures.horse)", "P:1: user name \"al\"ice\" contains \"\"\", which is not allowed"),
        (".alice \(Fixtures.horse)", "P:1: user name \".alice\" has a dot at its start or end, or two dots in a row"),
        ("alice+x \(Fixtures.horse)",
         "P:1: user name \"alice+x\" contains \"+\", a suffix separator ([aliases] suffix_separators): mail could never reach it"),
        ("\(String(repeating: "a", count: 65)) \(Fixtures.horse)", "is longer than 64 bytes"),
    ]

    @Test(arguments: bad)
    func reportsErrors(text: String, message: String) {
        #expect {
            try UsersFile.parse(text, path: "P")
        } throws: { error in
            let ok = "\(error)" == message || (message.hasPrefix("is ") && "\(error)".contains(message))
            if !ok { Issue.record("got: \(error)") }
            return ok
        }
    }

    @Test(arguments: ["alice", "j.doe", "o'neil", "x_y-z", "müller", "1234", "a!#$%&'*/=?^_`{|}~"])
    func acceptsNames(name: String) {
        #expect(UserName.problem(name) == nil)
    }
}

/// Damaged users files never crash the parser: they parse or throw a `DirectoryError` with a line.
@Suite struct UsersFileRobustnessTests {
    @Test func randomDamage() {
        let sample = "# users\nalice  \(Fixtures.horse)\n\nj.doe\t\(Fixtures.empty)\n"
        let alphabet = Array("$=,#. \t\n\r+/@aZ0é".unicodeScalars)
        var state: UInt64 = 42
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        for _ in 0..<3000 {
            var damaged = Array(sample.unicodeScalars)
            for _ in 0...next(3) {
                let i = next(damaged.count)
                switch next(3) {
                case 0: damaged[i] = alphabet[next(alphabet.count)]
                case 1: damaged.remove(at: i)
                default: damaged.insert(alphabet[next(alphabet.count)], at: i)
                }
            }
            do {
                _ = try UsersFile.parse(String(String.UnicodeScalarView(damaged)), path: "u")
            } catch let error as DirectoryError {
                #expect(error.path == "u" && error.line != nil, "\(error)")
            } catch {
                Issue.record("not a DirectoryError: \(error)")
            }
        }
    }
}
