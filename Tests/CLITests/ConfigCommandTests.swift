import Config
import Foundation
import Testing

/// `apus config check|reference` (`Sources/CLI/ConfigCommand.swift`), run as the built binary.
@Suite struct ConfigCommandTests {
    static func check(_ toml: String?) async throws -> (dir: String, result: ApusProcess.Result) {
        let dir = try ApusProcess.temporaryDirectory()
        if let toml { try toml.write(toFile: "\(dir)/apus.toml", atomically: true, encoding: .utf8) }
        return (dir, try await ApusProcess.run(["config", "check", "--config", dir]))
    }

    @Test func checkSaysOK() async throws {
        let (dir, result) = try await Self.check(ApusConfig(hostname: "mx.example.test").render())
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == "\(dir)/apus.toml: ok\n")
        #expect(result.err.isEmpty)
    }

    /// A misspelt key: exit 1, and standard error names the file, the line and the key it should be.
    @Test func checkNamesFileAndLine() async throws {
        let (dir, result) = try await Self.check("hostname = \"mx.example.test\"\n\n[limits]\nmax_recipient = 50\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(result.status == 1)
        #expect(result.out.isEmpty)
        #expect(result.err == "\(dir)/apus.toml:4: unknown key \"max_recipient\" in [limits] (did you mean \"max_recipients\"?)\n")
    }

    @Test func checkReportsInvalidValueAndMissingFile() async throws {
        let (dir, bad) = try await Self.check("hostname = \"mx.example.test\"\n[delivery]\ngive_up_after = \"5 days\"\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(bad.status == 1)
        #expect(bad.err.hasPrefix("\(dir)/apus.toml:3: \"give_up_after\" in [delivery]: \"5 days\" is not a duration"), "\(bad.err)")

        let (empty, missing) = try await Self.check(nil)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(missing.status == 1)
        #expect(missing.err.hasPrefix("\(empty)/apus.toml: no such file"), "\(missing.err)")
    }

    /// `--config …/apus.toml` (the file, not its directory) is taken to mean its directory; another file is
    /// refused with what to give instead, not "…/x.toml/apus.toml: NSCocoaErrorDomain error 256".
    @Test func configGivenAsTheFileItself() async throws {
        let (dir, _) = try await Self.check(ApusConfig(hostname: "mx.example.test").render())
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = try await ApusProcess.run(["config", "check", "--config", "\(dir)/apus.toml"])
        #expect(file.status == 0, "\(file.err)")
        #expect(file.out == "\(dir)/apus.toml: ok\n")

        try "x".write(toFile: "\(dir)/other.toml", atomically: true, encoding: .utf8)
        let other = try await ApusProcess.run(["config", "check", "--config", "\(dir)/other.toml"])
        #expect(other.status != 0)
        #expect(other.err.contains("--config expects the configuration directory (the one holding apus.toml), but \(dir)/other.toml is a file; try --config \(dir)"), "\(other.err)")
        #expect(!other.err.contains("NSCocoaErrorDomain"))
    }

    @Test func referencePrintsTheMarkdown() async throws {
        let result = try await ApusProcess.run(["config", "reference"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == ApusConfig.referenceMarkdown())
    }
}
