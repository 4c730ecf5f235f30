import Foundation
import Testing
@testable import Config

/// `docs/configuration.md` is `ApusConfig.referenceMarkdown()` (Sources/Config/ApusConfig+Reference.swift), it
/// documents every key of the schema, and what it shows — defaults and examples — parses.
@Suite struct ConfigReferenceTests {
    static let docsPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/configuration.md").path
    static let regenerate = "regenerate it with scripts/gen-docs "
        + "(or: swift build --product apus && .build/debug/apus config reference > docs/configuration.md) and commit it"

    @Test func committedFileIsCurrent() {
        let generated = ApusConfig.referenceMarkdown()
        guard let committed = try? String(contentsOfFile: Self.docsPath, encoding: .utf8) else {
            Issue.record("cannot read \(Self.docsPath); \(Self.regenerate)")
            return
        }
        guard committed != generated else { return }
        let old = committed.split(separator: "\n", omittingEmptySubsequences: false)
        let new = generated.split(separator: "\n", omittingEmptySubsequences: false)
        let index = zip(old, new).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(old.count, new.count)
        let was = index < old.count ? String(old[index]) : "(end of file)"
        let now = index < new.count ? String(new[index]) : "(end of file)"
        Issue.record("""
            docs/configuration.md is out of date with the config schema (Sources/Config/ApusConfig+Schema.swift); \
            \(Self.regenerate).
            First difference, line \(index + 1):
              file:      \(was)
              generated: \(now)
            """)
    }

    /// One key of the reference: its section, its description and what follows `- Type:` and `- Default:`.
    struct DocumentedKey: Equatable {
        var table: String?
        var key: String
        var description = ""
        var type = ""
        var defaultValue = ""
    }

    /// The keys documented under `## Top-level keys` and `## `[table]``, in order.
    static func documentedKeys(_ markdown: String) -> [DocumentedKey] {
        var keys: [DocumentedKey] = []
        var table: String?? = .none   // .none: not a section of keys
        for line in markdown.split(separator: "\n").map(String.init) {
            if line.hasPrefix("## ") {
                if line == "## Top-level keys" {
                    table = .some(nil)
                } else if line.hasPrefix("## `[") && line.hasSuffix("]`") {
                    table = .some(String(line.dropFirst("## `[".count).dropLast("]`".count)))
                } else {
                    table = .none
                }
            } else if case .some(let current) = table, line.hasPrefix("### `") && line.hasSuffix("`") {
                keys.append(DocumentedKey(table: current, key: String(line.dropFirst("### `".count).dropLast())))
            } else if !keys.isEmpty, case .some = table {
                if line.hasPrefix("- Type: ") {
                    keys[keys.count - 1].type = String(line.dropFirst("- Type: ".count))
                } else if line.hasPrefix("- Default: ") {
                    keys[keys.count - 1].defaultValue = String(line.dropFirst("- Default: ".count))
                } else if keys[keys.count - 1].description.isEmpty {
                    keys[keys.count - 1].description = line
                }
            }
        }
        return keys
    }

    @Test func everyKeyIsDocumentedInSchemaOrder() {
        let documented = Self.documentedKeys(ApusConfig.referenceMarkdown())
        #expect(documented.map { "\($0.table ?? "").\($0.key)" } == ApusConfig.fields.map { "\($0.table ?? "").\($0.key)" })
        for (field, doc) in zip(ApusConfig.fields, documented) {
            #expect(doc.description == ApusConfig.Reference.escape(field.comment), "description of \(field.key)")
            #expect(!doc.type.isEmpty, "no type for \(field.key)")
            #expect(!doc.defaultValue.isEmpty, "no default for \(field.key)")
        }
        let markdown = ApusConfig.referenceMarkdown()
        for table in configTables {
            #expect(markdown.contains("\n## `[\(table.name)]`\n\n\(ApusConfig.Reference.escape(table.comment))\n"), "[\(table.name)]")
        }
    }

    /// The defaults shown, put together as a file, parse back to the default configuration; each is the line
    /// `render()` writes into the default apus.toml.
    @Test func documentedDefaultsParseBack() throws {
        let rendered = Set(ApusConfig(hostname: "mx.example.com").render().split(separator: "\n").map(String.init))
        var top: [String] = ["hostname = \"mx.example.com\""]
        var tables: [(name: String, lines: [String])] = []
        for doc in Self.documentedKeys(ApusConfig.referenceMarkdown()) where doc.key != "hostname" {
            #expect(doc.defaultValue.hasPrefix("`\(doc.key) = ") && doc.defaultValue.hasSuffix("`"), "\(doc.key): \(doc.defaultValue)")
            let line = String(doc.defaultValue.dropFirst().dropLast())
            #expect(rendered.contains(line), "render() does not write \(line)")
            if let table = doc.table {
                if tables.last?.name != table { tables.append((table, [])) }
                tables[tables.count - 1].lines.append(line)
            } else {
                top.append(line)
            }
        }
        let text = (top + tables.flatMap { ["[\($0.name)]"] + $0.lines }).joined(separator: "\n") + "\n"
        #expect(try ApusConfig.parse(text, path: "defaults.toml") == ApusConfig(hostname: "mx.example.com"))
    }

    @Test func examplesParse() throws {
        let markdown = ApusConfig.referenceMarkdown()
        for duration in ApusConfig.Reference.durationExamples + [.minutes(90)] {
            #expect(ConfigDuration(parsing: duration.description) == duration)
            #expect(markdown.contains("`\"\(duration)\"`"))
        }
        let typo = ApusConfig.Reference.typoExample, path = ApusConfig.Reference.typoExamplePath
        #expect {
            try ApusConfig.parse(typo, path: path)
        } throws: { error in
            "\(error)" == "\(path):3: unknown key \"max_recipient\" in [limits] (did you mean \"max_recipients\"?)"
                && markdown.contains("\n    \(error)\n")
        }
        let senders = try ApusConfig.parse("hostname = \"mx.example.com\"\n" + ApusConfig.Reference.sendersExample, path: "s.toml")
        #expect(senders.senders == ["alice@example.com": ["info@example.com", "*@example.org"]])
        #expect(markdown.contains("```toml\n\(ApusConfig.Reference.sendersExample)```\n"))

        let values = try ApusConfig.parse("""
            hostname = 'mx.example.com'
            [limits]
            max_message_bytes = 52_428_800
            command_timeout = 300
            [listen]
            mx = ["0.0.0.0:25", "[::]:25"]
            admin = []
            """, path: "v.toml")
        #expect(values.limits.maxMessageBytes == 52_428_800 && values.limits.commandTimeout == .minutes(5))
        #expect(values.listen.mx == ApusConfig.Listen.defaultMX && values.listen.admin.isEmpty)
        #expect(throws: ConfigError.self) { try ApusConfig.parse("[limits]\nmax_message_bytes = 1.5\n", path: "f.toml") }
    }

    /// "Integers must be at least 1 and durations at least 1 second, unless a key's description says
    /// otherwise": 0 is refused for every one of them but those whose description gives "0s" a meaning.
    @Test func zeroIsRefusedForEveryIntegerAndDuration() {
        for field in ApusConfig.fields where !field.comment.contains("\"0s\"") {
            var config = ApusConfig(hostname: "mx.example.com")
            switch field.kind {
            case .integer(let keyPath): config[keyPath: keyPath] = 0
            case .duration(let keyPath): config[keyPath: keyPath] = .seconds(0)
            default: continue
            }
            #expect(config.problems().contains { $0.key == field.keyPath }, "\(field.key) = 0 is accepted")
        }
    }

    @Test func markdownHasNoTrailingSpaces() {
        let markdown = ApusConfig.referenceMarkdown()
        #expect(markdown.hasSuffix("\n") && !markdown.hasSuffix("\n\n"))
        for line in markdown.split(separator: "\n") {
            #expect(line.last != " ", "trailing space: \(line)")
        }
    }
}
