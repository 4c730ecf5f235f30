import Foundation
import Testing
@testable import Directory

@Suite struct AliasesFileTests {
    static let path = "/etc/apus/domains/example.test/aliases"

    static func parse(_ text: String) throws -> AliasesFile {
        try AliasesFile.parse(text, path: path, domain: "example.test")
    }

    @Test func parsesEverySyntax() throws {
        let file = try Self.parse("""
            # comment
              # indented comment

            info: alice, Bob@Other.Example
            Sales : alice ,  bob
            list: | /usr/bin/handler --name "the list" 'x y' # not a comment
            j.doe: jdoe@example.test\r
            *: *@other.example
            dup: a, a
            """)
        #expect(file.entries.map(\.name) == ["info", "sales", "list", "j.doe", "*", "dup"])
        #expect(file.entries.map(\.line) == [4, 5, 6, 7, 8, 9])
        #expect(file.entries[0].targets == [.address(localPart: "alice", domain: "example.test"),
                                            .address(localPart: "Bob", domain: "other.example")])
        #expect(file.entries[1].targets == [.address(localPart: "alice", domain: "example.test"),
                                            .address(localPart: "bob", domain: "example.test")])
        #expect(file.entries[2].targets == [.pipe(#"/usr/bin/handler --name "the list" 'x y' # not a comment"#)])
        #expect(file.entries[4].targets == [.address(localPart: "*", domain: "other.example")])
        #expect(file.entries[5].targets == [.address(localPart: "a", domain: "example.test")])
    }

    @Test func emptyFile() throws {
        #expect(try Self.parse("").entries.isEmpty)
        #expect(try Self.parse("\n# only a comment\n\n").entries.isEmpty)
    }

    /// Each syntax error, with the message an operator sees.
    @Test(arguments: [
        ("alice alice@x.example", 1, #"expected `name: target, target…`, found no ":""#),
        ("# ok\n: bob", 2, #"an alias needs a name before ":""#),
        ("a@b.example: bob", 1, #"alias "a@b.example" has a domain; write only the part before @ (the domain is this file's directory)"#),
        ("a b: bob", 1, #"alias name "a b" is not a valid local part"#),
        ("a..b: bob", 1, #"alias name "a..b" is not a valid local part"#),
        ("info:", 1, #"alias "info" has no target"#),
        ("info:   ", 1, #"alias "info" has no target"#),
        ("info: |", 1, #"alias "info": no command after "|""#),
        ("info: | echo 'x", 1, #"alias "info": the command has an unterminated ' quote"#),
        ("info: | echo \"x", 1, #"alias "info": the command has an unterminated " quote"#),
        ("info: | echo x\\", 1, #"alias "info": the command ends with a lone backslash"#),
        ("info: a,,b", 1, #"alias "info": empty target (two commas in a row, or a comma at an end)"#),
        ("info: a,", 1, #"alias "info": empty target (two commas in a row, or a comma at an end)"#),
        ("info: a, | cat", 1, #"alias "info": a "| command" must be its alias's only target; give the command its own alias"#),
        ("info: a b", 1, #"alias "info": "a b" is not an address; separate targets with commas"#),
        ("info: *", 1, #"alias "info": a bare "*" target would come back to this domain; write *@DOMAIN"#),
        ("info: a@", 1, #"alias "info": "a@" is not a valid address"#),
        ("info: @x.example", 1, #"alias "info": "@x.example" is not a valid address"#),
        ("info: *@", 1, #"alias "info": "*@" is not a valid address"#),
        ("info: a@b@c", 1, #"alias "info": "a@b@c" is not a valid address"#),
        ("info: bob\n\nINFO: carol", 3, #"duplicate alias "info" (first on line 1)"#),
        ("*: bob\n*: carol", 2, "a second catch-all `*` (the first is on line 1)"),
    ])
    func syntaxErrors(text: String, line: Int, reason: String) {
        #expect(throws: DirectoryError(path: Self.path, line: line, reason: reason)) { try Self.parse(text) }
    }

    @Test func errorTextNamesFileAndLine() {
        do {
            _ = try Self.parse("ok: bob\nbroken")
            Issue.record("no error")
        } catch {
            #expect("\(error)" == #"/etc/apus/domains/example.test/aliases:2: expected `name: target, target…`, found no ":""#)
        }
    }

    @Test func loadedWithTheUsersAndReportedAtLoad() throws {
        let dir = try TestConfigDirectory(domains: ["example.test": "bob \(Fixtures.horse)\n"])
        try dir.write("domains/example.test/aliases", "info: bob\n")
        let directory = try MailDirectory.load(configDirectory: dir.path)
        #expect(directory.alias(localPart: "INFO", domain: "example.test")?.targets == [.address(localPart: "bob", domain: "example.test")])
        try dir.write("domains/example.test/aliases", "info: bob\ninfo bob\n")
        #expect(throws: DirectoryError(path: dir.path + "/domains/example.test/aliases", line: 2,
                                       reason: #"expected `name: target, target…`, found no ":""#)) {
            try MailDirectory.load(configDirectory: dir.path)
        }
    }
}
