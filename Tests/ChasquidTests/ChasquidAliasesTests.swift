import Directory
import Testing
@testable import Chasquid

@Suite struct ChasquidAliasesTests {
    @Test func linesApusAcceptsAreCopiedAsTheyAre() {
        let text = "# comment\ninfo: alice\n\nflowers: rose@backgarden.example, lilly\nnull: | cat\n*: bob\n"
        let (out, count, notes) = ChasquidAliases.apusAliasesFile(text, domain: "example.com", source: "aliases")
        #expect(out == text)
        #expect(count == 4)
        #expect(notes.isEmpty)
    }

    @Test func viaAndMalformedLinesAreCommentedOutAndReported() throws {
        let text = "info: alice\nrelay: someone@else.example via smtp.example.net\nbad line\ninfo: bob\nok: carol\n"
        let (out, count, notes) = ChasquidAliases.apusAliasesFile(text, domain: "example.com", source: "domains/example.com/aliases")
        #expect(count == 2)
        #expect(notes.map(\.source) == ["domains/example.com/aliases:2", "domains/example.com/aliases:3", "domains/example.com/aliases:4"])
        #expect(notes[0].text.contains("`via`"))
        #expect(notes[2].text.contains("duplicate alias \"info\" (first on line 1)"), "\(notes[2])")
        let lines = out.split(separator: "\n")
        #expect(lines[0] == "info: alice" && lines[4] == "ok: carol")
        #expect(lines[1].hasPrefix("# apus import: not imported (") && lines[1].hasSuffix("): relay: someone@else.example via smtp.example.net"))
        let parsed = try AliasesFile.parse(out, path: "aliases", domain: "example.com")
        #expect(parsed.entries.map(\.name) == ["info", "ok"])
    }
}
