import Foundation

extension ApusConfig {
    /// Reads `<configDirectory>/apus.toml`, then validates it.
    public static func load(configDirectory: String) throws -> ApusConfig {
        let path = configDirectory.hasSuffix("/") ? configDirectory + "apus.toml" : configDirectory + "/apus.toml"
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            throw ConfigError(path: path, line: nil,
                              reason: "no such file; create a configuration with `apus init DOMAIN`, or try `apus dev`")
        } catch let error as CocoaError where error.code == .fileReadNoPermission {
            throw ConfigError(path: path, line: nil, reason: "permission denied")
        } catch {
            throw ConfigError(path: path, line: nil, reason: "cannot read: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(path: path, line: nil, reason: "not valid UTF-8")
        }
        return try parse(text, path: path)
    }

    /// Parses the text of an `apus.toml` (`path` is used in messages only), then validates it.
    public static func parse(_ text: String, path: String) throws -> ApusConfig {
        let document = try TOMLDocument.parse(text, path: path)
        let config = try decode(document)
        if let problem = config.problems().first {
            var reason = problem.reason
            if problem.key == ["hostname"] && document.root["hostname"] == nil {
                reason += " (this is the machine's host name: set `hostname` in apus.toml)"
            }
            throw ConfigError(path: path, line: document.root.line(of: problem.key), reason: reason)
        }
        return config
    }

    static func decode(_ document: TOMLDocument) throws -> ApusConfig {
        var config = ApusConfig()
        let fields = Self.fields
        let root = document.root
        func fail(_ line: Int?, _ reason: String) -> ConfigError {
            ConfigError(path: document.path, line: line, reason: reason)
        }

        // Unknown keys and tables first: a typo is the likeliest mistake.
        let topKeys = fields.filter { $0.table == nil }.map(\.key)
        let tableNames = configTables.map(\.name)
        for key in root.keys {
            let entry = root[key]!
            if key == "webhooks" {
                config.webhooks = try decodeWebhooks(entry, fail: fail)
                continue
            }
            if case .table = entry.value {
                guard tableNames.contains(key) else {
                    throw fail(entry.line, "unknown table [\(TOMLWriter.key(key))]" + suggestion(key, tableNames, brackets: true))
                }
            } else if !topKeys.contains(key) {
                let hint = tableNames.contains(key) ? " (\(key) is a table: write [\(key)] on a line of its own)"
                    : suggestion(key, topKeys, brackets: false)
                throw fail(entry.line, "unknown key \(TOMLWriter.quote(key)) at the top level" + hint)
            }
        }
        for name in tableNames where name != "senders" {
            guard let entry = root[name] else { continue }
            guard case .table(let table) = entry.value else { continue }
            let known = fields.filter { $0.table == name }.map(\.key)
            for key in table.keys where !known.contains(key) && !(name == "delivery" && key == "providers") {
                throw fail(table[key]!.line,
                           "unknown key \(TOMLWriter.quote(key)) in [\(name)]" + suggestion(key, known, brackets: false))
            }
        }

        // Values.
        for field in fields {
            let container: TOMLTable
            if let tableName = field.table {
                guard let entry = root[tableName], case .table(let t) = entry.value else { continue }
                container = t
            } else {
                container = root
            }
            guard let entry = container[field.key] else { continue }
            let name = TOMLWriter.quote(field.key) + (field.table.map { " in [\($0)]" } ?? "")
            func wrongType(_ expected: String) -> ConfigError {
                fail(entry.line, "\(name) must be \(expected), not \(entry.value.typeDescription)")
            }
            switch field.kind {
            case .string(let keyPath):
                guard case .string(let s) = entry.value else { throw wrongType("a string") }
                config[keyPath: keyPath] = s
            case .integer(let keyPath):
                guard case .integer(let n) = entry.value else { throw wrongType("an integer") }
                config[keyPath: keyPath] = n
            case .duration(let keyPath):
                switch entry.value {
                case .integer(let n):
                    config[keyPath: keyPath] = ConfigDuration(seconds: n)
                case .string(let s):
                    guard let d = ConfigDuration(parsing: s) else {
                        throw fail(entry.line, "\(name): \(TOMLWriter.quote(s)) is not a duration; write \"30s\", \"5m\", \"2h\" or \"5d\"")
                    }
                    config[keyPath: keyPath] = d
                default:
                    throw wrongType("a duration such as \"5m\"")
                }
            case .boolean(let keyPath):
                guard case .boolean(let b) = entry.value else { throw wrongType("true or false") }
                config[keyPath: keyPath] = b
            case .addresses(let keyPath, let defaultPort):
                guard case .array(let items) = entry.value else {
                    throw wrongType(defaultPort == nil ? "an array of \"host:port\" strings" : "an array of \"IP:PORT\" strings")
                }
                var addresses: [ListenAddress] = []
                for item in items {
                    guard case .string(let s) = item else {
                        throw fail(entry.line, "\(name) must hold strings, not \(item.typeDescription)")
                    }
                    do {
                        addresses.append(try ListenAddress.parse(s, defaultPort: defaultPort))
                    } catch let error as ConfigError {
                        throw fail(entry.line, "\(name): \(error.reason)")
                    }
                }
                config[keyPath: keyPath] = addresses
            case .strings(let keyPath):
                guard case .array(let items) = entry.value else { throw wrongType("an array of strings") }
                config[keyPath: keyPath] = try items.map {
                    guard case .string(let s) = $0 else {
                        throw fail(entry.line, "\(name) must hold strings, not \($0.typeDescription)")
                    }
                    return s
                }
            }
        }

        if let entry = root["delivery"], case .table(let delivery) = entry.value {
            try decodeProviders(delivery, into: &config, fail: fail)
        }

        // [senders]: quoted address keys, each an array of strings.
        if let entry = root["senders"], case .table(let table) = entry.value {
            for key in table.keys {
                let item = table[key]!
                let name = TOMLWriter.quote(key) + " in [senders]"
                guard case .array(let values) = item.value else {
                    throw fail(item.line, "\(name) must be an array of addresses, not \(item.value.typeDescription)")
                }
                config.senders[key] = try values.map {
                    guard case .string(let s) = $0 else {
                        throw fail(item.line, "\(name) must hold strings, not \($0.typeDescription)")
                    }
                    return s
                }
            }
        }
        return config
    }

    static let webhookKeys = ["url", "events", "secret_file"]

    /// `[[webhooks]]` tables: `url` (required), `events` (strings), `secret_file`.
    static func decodeWebhooks(_ entry: TOMLTable.Entry, fail: (Int?, String) -> ConfigError) throws -> [Webhook] {
        guard case .array(let items) = entry.value else {
            throw fail(entry.line, "\"webhooks\" must be written as [[webhooks]] tables, each with url = \"https://…\"")
        }
        var out: [Webhook] = []
        for item in items {
            guard case .table(let table) = item else {
                throw fail(entry.line, "\"webhooks\" must be written as [[webhooks]] tables, each with url = \"https://…\"")
            }
            let line = table.keys.compactMap { table[$0]?.line }.min().map { $0 - 1 } ?? entry.line
            for key in table.keys where !webhookKeys.contains(key) {
                throw fail(table[key]!.line, "unknown key \(TOMLWriter.quote(key)) in [[webhooks]]" + suggestion(key, webhookKeys, brackets: false))
            }
            guard let urlEntry = table["url"] else { throw fail(line, "[[webhooks]] needs url = \"https://…\"") }
            guard case .string(let url) = urlEntry.value else {
                throw fail(urlEntry.line, "\"url\" in [[webhooks]] must be a string, not \(urlEntry.value.typeDescription)")
            }
            var events: [String] = []
            if let e = table["events"] {
                guard case .array(let values) = e.value else {
                    throw fail(e.line, "\"events\" in [[webhooks]] must be an array of event types, not \(e.value.typeDescription)")
                }
                for value in values {
                    guard case .string(let name) = value else {
                        throw fail(e.line, "\"events\" in [[webhooks]] must hold strings, not \(value.typeDescription)")
                    }
                    events.append(name)
                }
            }
            var secretFile = ""
            if let f = table["secret_file"] {
                guard case .string(let path) = f.value else {
                    throw fail(f.line, "\"secret_file\" in [[webhooks]] must be a string, not \(f.value.typeDescription)")
                }
                secretFile = path
            }
            var webhook = Webhook(url: url, events: events, secretFile: secretFile)
            webhook.line = urlEntry.line
            out.append(webhook)
        }
        return out
    }

    /// ` (did you mean "x"?)` when one known key is close to `key`, else "".
    static func suggestion(_ key: String, _ known: [String], brackets: Bool) -> String {
        let scored = known.map { ($0, editDistance(key.lowercased(), $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, best.count / 3) else { return "" }
        return brackets ? " (did you mean [\(best)]?)" : " (did you mean \(TOMLWriter.quote(best))?)"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
