/// `docs/configuration.md`: the reference of every key of `apus.toml`, in Markdown, made from the schema table
/// (`ApusConfig.fields`, `configTables`) that parsing, validation and `render()` use, so it cannot drift from
/// what the server does. `apus config reference` prints it, `scripts/gen-docs` writes it, and
/// ConfigReferenceTests fails when the committed file differs.
///
/// Per key it gives the name, the type, the default (the TOML that `render()` writes for a default
/// configuration) and the schema comment. The prose around the table states only what the code does: the
/// examples in it (durations, addresses, the "did you mean" error, `[senders]`) are computed or checked by
/// the tests.
extension ApusConfig {
    /// The Markdown reference of `apus.toml`; ends with a newline.
    public static func referenceMarkdown() -> String {
        var out = Reference.introduction()
        let defaults = ApusConfig(hostname: "")
        var sections: [(name: String?, comment: String)] = [(nil, "Keys before the first `[table]` header.")]
        sections += configTables.filter { $0.name != "senders" }.map { (Optional($0.name), Reference.escape($0.comment)) }
        for section in sections {
            let fields = Self.fields.filter { $0.table == section.name }
            guard !fields.isEmpty else { continue }
            out += "\n## " + (section.name.map { "`[\($0)]`" } ?? "Top-level keys") + "\n\n\(section.comment)\n"
            for field in fields {
                out += "\n### `\(field.key)`\n\n\(Reference.escape(field.comment))\n\n"
                out += "- Type: \(field.referenceType)\n"
                out += "- Default: \(field.referenceDefault(defaults))\n"
            }
        }
        out += providersReference()
        out += Reference.senders()
        return out
    }

    /// The fixed parts of the reference, and the examples in them (the tests parse each one).
    enum Reference {
        /// Durations written the way `ConfigDuration.description` writes them.
        static let durationExamples: [ConfigDuration] = [.seconds(30), .minutes(5), .hours(2), .days(5)]
        /// An `apus.toml` with a misspelt key, whose error the introduction shows.
        static let typoExample = "hostname = \"mx.example.com\"\n[limits]\nmax_recipient = 50\n"
        static let typoExamplePath = "/etc/apus/apus.toml"
        /// The `[senders]` example.
        static let sendersExample = "[senders]\n\"alice@example.com\" = [\"info@example.com\", \"*@example.org\"]\n"

        static func introduction() -> String {
            let typoError: String
            do {
                _ = try ApusConfig.parse(typoExample, path: typoExamplePath)
                typoError = "(no error)"
            } catch {
                typoError = "\(error)"
            }
            let durations = durationExamples.map { "`\"\($0)\"`" }.joined(separator: ", ")
            let listExample = TOMLWriter.stringArray(ApusConfig.Listen.defaultMX.map(\.description))
            let dataDir = ApusConfig(hostname: "").dataDir
            return """
                <!-- Generated from Sources/Config/ApusConfig+Schema.swift by `apus config reference`. Do not edit:
                     run scripts/gen-docs. Tests/ConfigTests/ConfigReferenceTests.swift fails when this file is stale. -->

                # Configuration reference

                Apus reads its settings from `apus.toml` in the configuration directory: `/etc/apus`, or the
                directory named by `$APUS_CONFIG`, or the one given with `--config DIR`, which every `apus` command
                takes and which wins over both.

                Every key is optional: a key left out takes its default, so a file that sets only `hostname` is a
                complete configuration. `apus init DOMAIN` writes an `apus.toml` that lists every key with its
                default, under a comment that is the description given here.

                The server reads `apus.toml` when it starts, so restart it after a change (SIGHUP re-reads users,
                aliases and certificates, not this file). Run `apus config check` first: it loads the file as the
                server does and prints `CONFIG/apus.toml: ok`, or the first error with its file and line. An unknown
                key or table is an error, never silently ignored, and the message suggests the nearest known name:

                    \(typoError)

                This page is generated from the schema table in `Sources/Config/ApusConfig+Schema.swift`, the
                table the server parses, validates and writes `apus.toml` from. To change it, edit a comment there
                and run `scripts/gen-docs` (which runs `apus config reference > docs/configuration.md`).

                ## Files

                The configuration directory holds plain text files only, so it can live in git:

                    apus.toml                               these settings
                    domains/<domain>/users                  the domain's users, one a line: name and scrypt hash
                    domains/<domain>/aliases                aliases, in chasquid's syntax
                    domains/<domain>/dkim/<selector>.pem    DKIM private keys, PKCS#8 (apus dkim keygen)
                    certs/<name>/fullchain.pem              a TLS certificate chain and its key, as certbot and
                    certs/<name>/privkey.pem                acme.sh write them; chosen by SNI

                A directory under `domains/` makes that domain local; `apus user add` and `apus alias resolve`
                work on the files in it. The data directory (`data_dir`, default `\(dataDir)`) holds `queue/`,
                `state/` (TLS security levels, the MTA-STS cache, the SRS secret) and `mail/<domain>/<user>/`,
                the Maildirs of local users.

                ## Values

                `apus.toml` is TOML, of which Apus reads the part it needs: `[table]` headers, `key = value` lines
                and comments from `#` to the end of the line. A value is one of these:

                - string: `"text"` with backslash escapes (`\\"`, `\\\\`, `\\t`, `\\n`, `\\uXXXX`), or `'text'` taken
                  as it is.
                - integer: decimal digits, optionally with `_` between them: `52_428_800`.
                - boolean: `true` or `false`.
                - duration: a whole number and one unit in a string, \(durations) (`s` seconds, `m` minutes,
                  `h` hours, `d` days), or an integer, a number of seconds. One unit only: 90 minutes is
                  `"\(ConfigDuration.minutes(90))"`.
                - list of `"host:port"`: an array of strings, such as `\(listExample)`. The host is an IPv4
                  address, an IPv6 address in brackets or `localhost`, never a name to look up in DNS; the port
                  is a number from 0 to 65535 (for a listener 0 takes any free port). `[]` is the empty list.

                Integers must be at least 1 and durations at least 1 second, unless a key's description says
                otherwise. Floating-point numbers, dates, inline tables, multi-line strings, arrays of tables
                and dotted keys are refused with an error that names the line.

                """
        }

        static func senders() -> String {
            let comment = escape(configTables.first { $0.name == "senders" }!.comment)
            return """

                ## `[senders]`

                \(comment)

                Each key is the address of a user who logs in (quoted, since it holds `@`), matched without
                regard to case; its value is the list of the other envelope senders (MAIL FROM) that user may
                use, each `user@domain`, or `*@domain` for every address of a domain:

                ```toml
                \(sendersExample)```

                Default: none; a user may send only as their own address and the aliases that reach them.

                """
        }

        /// Schema comments are plain text: escape what Markdown would take for markup.
        static func escape(_ text: String) -> String {
            var out = ""
            for ch in text {
                if ch == "\\" || ch == "*" || ch == "<" { out.append("\\") }
                out.append(ch)
            }
            return out
        }

        /// `text` as a Markdown code span, with a longer fence when it holds backticks.
        static func code(_ text: String) -> String {
            guard text.contains("`") else { return "`\(text)`" }
            return "`` \(text) ``"
        }
    }
}

extension ConfigField {
    /// This key's value in `config` as TOML, as `render()` writes it.
    func tomlValue(in config: ApusConfig) -> String {
        switch kind {
        case .string(let keyPath): TOMLWriter.quote(config[keyPath: keyPath])
        case .integer(let keyPath): String(config[keyPath: keyPath])
        case .duration(let keyPath): TOMLWriter.quote(config[keyPath: keyPath].description)
        case .boolean(let keyPath): String(config[keyPath: keyPath])
        case .addresses(let keyPath, _): TOMLWriter.stringArray(config[keyPath: keyPath].map(\.description))
        case .strings(let keyPath): TOMLWriter.stringArray(config[keyPath: keyPath])
        }
    }

    /// The type, for the reader: the syntax is under "Values" in the reference.
    var referenceType: String {
        switch kind {
        case .string: "string"
        case .integer: "integer"
        case .duration:
            "duration (" + ApusConfig.Reference.durationExamples.map { "`\"\($0)\"`" }.joined(separator: ", ")
                + ", or a number of seconds)"
        case .boolean: "boolean"
        case .addresses(_, nil): "list of `\"host:port\"`"
        case .addresses(_, let port?): "list of `\"host\"` or `\"host:port\"` (port \(port) when it is left out)"
        case .strings: "list of strings"
        }
    }

    /// `` `key = value` `` for the default configuration; the host name has no fixed default.
    func referenceDefault(_ defaults: ApusConfig) -> String {
        if case .string(let keyPath) = kind, keyPath == \ApusConfig.hostname {
            return "this machine's host name (what `hostname` prints)"
        }
        return ApusConfig.Reference.code("\(key) = \(tomlValue(in: defaults))")
    }
}
