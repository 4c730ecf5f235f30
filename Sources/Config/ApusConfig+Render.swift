extension ApusConfig {
    /// A complete `apus.toml` for this configuration: every key, each under a comment that says what it does
    /// and what its default is. `parse(render())` gives this configuration back.
    public func render() -> String {
        let defaults = ApusConfig(hostname: "")
        var out = """
            # apus.toml: settings of the Apus mail server.
            # Every key is listed with its default; a key left out takes its default.
            # Durations are written "30s", "5m", "2h" or "5d".

            """
        var currentTable: String? = nil
        for field in Self.fields {
            if field.table != currentTable, let table = field.table {
                out += "\n# \(configTables.first { $0.name == table }!.comment)\n[\(table)]\n"
                currentTable = table
            }
            let value: String
            let defaultValue: String
            switch field.kind {
            case .string(let keyPath):
                value = TOMLWriter.quote(self[keyPath: keyPath])
                defaultValue = field.key == "hostname" ? "this machine's host name" : TOMLWriter.quote(defaults[keyPath: keyPath])
            case .integer(let keyPath):
                value = String(self[keyPath: keyPath])
                defaultValue = String(defaults[keyPath: keyPath])
            case .duration(let keyPath):
                value = TOMLWriter.quote(self[keyPath: keyPath].description)
                defaultValue = TOMLWriter.quote(defaults[keyPath: keyPath].description)
            case .boolean(let keyPath):
                value = String(self[keyPath: keyPath])
                defaultValue = String(defaults[keyPath: keyPath])
            case .addresses(let keyPath, _):
                value = TOMLWriter.stringArray(self[keyPath: keyPath].map(\.description))
                defaultValue = TOMLWriter.stringArray(defaults[keyPath: keyPath].map(\.description))
            case .strings(let keyPath):
                value = TOMLWriter.stringArray(self[keyPath: keyPath])
                defaultValue = TOMLWriter.stringArray(defaults[keyPath: keyPath])
            }
            out += "# \(field.comment) Default: \(defaultValue).\n"
            out += "\(field.key) = \(value)\n"
        }
        out += "\n# \(configTables.first { $0.name == "senders" }!.comment)\n"
        out += "# Default: none; a user may send only as their own address and the aliases that reach them.\n"
        out += "[senders]\n"
        if senders.isEmpty {
            out += "# \"alice@example.com\" = [\"info@example.com\", \"*@example.org\"]\n"
        }
        for key in senders.keys.sorted() {
            out += "\(TOMLWriter.quote(key)) = \(TOMLWriter.stringArray(senders[key]!))\n"
        }
        out += "\n# Webhooks: each event POSTed as JSON, signed with Apus-Signature (docs/api.md). One [[webhooks]] per endpoint.\n"
        if webhooks.isEmpty {
            out += "# [[webhooks]]\n# url = \"https://app.example.com/apus\"\n# events = [\"delivered\", \"bounced\"]   # empty: all\n# secret_file = \"webhook.secret\"\n"
        }
        for webhook in webhooks {
            out += "[[webhooks]]\nurl = \(TOMLWriter.quote(webhook.url))\nevents = \(TOMLWriter.stringArray(webhook.events))\n"
            out += "secret_file = \(TOMLWriter.quote(webhook.secretFile))\n"
        }
        return out
    }
}
