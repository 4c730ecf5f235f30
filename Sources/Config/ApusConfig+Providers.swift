/// `[delivery.providers.NAME]` (DESIGN.md §3): per-provider delivery limits, keyed by the MX host's
/// provider rather than the recipient's domain (thousands of domains are hosted at Google). Gmail, Outlook
/// and Yahoo are built in; a table of the same name overrides the keys it sets, another name adds one.
///
/// ```toml
/// [delivery.providers.gmail]
/// mx = ["*.google.com", "*.googlemail.com"]   # MX host patterns of the provider
/// max_connections = 5                         # concurrent SMTP connections to all of them together
/// max_messages_per_minute = 120               # halved for 10 minutes after a 421/451 4.7.x rate deferral
/// ```
extension ApusConfig {
    public struct Provider: Sendable, Hashable {
        public var name: String
        public var mx: [String]
        public var maxConnections: Int
        public var maxMessagesPerMinute: Int

        public init(name: String, mx: [String], maxConnections: Int, maxMessagesPerMinute: Int) {
            self.name = name
            self.mx = mx
            self.maxConnections = maxConnections
            self.maxMessagesPerMinute = maxMessagesPerMinute
        }

        public static let builtIn: [Provider] = [
            Provider(name: "gmail", mx: ["*.google.com", "*.googlemail.com"], maxConnections: 5, maxMessagesPerMinute: 120),
            Provider(name: "outlook", mx: ["*.outlook.com", "*.hotmail.com"], maxConnections: 4, maxMessagesPerMinute: 90),
            Provider(name: "yahoo", mx: ["*.yahoodns.net", "*.yahoo.com"], maxConnections: 4, maxMessagesPerMinute: 60),
        ]

        static let keys = ["mx", "max_connections", "max_messages_per_minute"]
    }

    /// Reads the tables under `[delivery.providers]` into `config.delivery.providers`.
    static func decodeProviders(_ delivery: TOMLTable, into config: inout ApusConfig,
                                fail: (Int?, String) -> ConfigError) throws {
        guard let entry = delivery["providers"] else { return }
        guard case .table(let providers) = entry.value else {
            throw fail(entry.line, "\"providers\" in [delivery] must be tables [delivery.providers.NAME], not \(entry.value.typeDescription)")
        }
        for name in providers.keys {
            let item = providers[name]!
            let shown = "[delivery.providers.\(TOMLWriter.key(name))]"
            guard case .table(let table) = item.value else {
                throw fail(item.line, "\(TOMLWriter.quote(name)) in [delivery.providers] must be a table \(shown)")
            }
            var provider = config.delivery.providers.first { $0.name == name }
                ?? Provider(name: name, mx: [], maxConnections: 5, maxMessagesPerMinute: 60)
            for key in table.keys {
                let value = table[key]!
                switch (key, value.value) {
                case ("mx", .array(let items)):
                    provider.mx = try items.map {
                        guard case .string(let s) = $0 else { throw fail(value.line, "\"mx\" in \(shown) must hold strings, not \($0.typeDescription)") }
                        return s
                    }
                case ("max_connections", .integer(let n)): provider.maxConnections = n
                case ("max_messages_per_minute", .integer(let n)): provider.maxMessagesPerMinute = n
                case ("mx", _):
                    throw fail(value.line, "\"mx\" in \(shown) must be an array of host patterns such as [\"*.google.com\"]")
                case ("max_connections", _), ("max_messages_per_minute", _):
                    throw fail(value.line, "\(TOMLWriter.quote(key)) in \(shown) must be an integer, not \(value.value.typeDescription)")
                default:
                    throw fail(value.line, "unknown key \(TOMLWriter.quote(key)) in \(shown)"
                               + suggestion(key, Provider.keys, brackets: false))
                }
            }
            if let i = config.delivery.providers.firstIndex(where: { $0.name == name }) {
                config.delivery.providers[i] = provider
            } else {
                config.delivery.providers.append(provider)
            }
        }
    }

    /// What is wrong with the providers: limits below 1, no MX pattern, a pattern that is not a host name.
    func providerProblems() -> [Problem] {
        var out: [Problem] = []
        for p in delivery.providers {
            let key = ["delivery", "providers", p.name]
            let shown = "[delivery.providers.\(TOMLWriter.key(p.name))]"
            if p.maxConnections < 1 { out.append(Problem(key: key, reason: "max_connections in \(shown) must be at least 1, not \(p.maxConnections)")) }
            if p.maxMessagesPerMinute < 1 {
                out.append(Problem(key: key, reason: "max_messages_per_minute in \(shown) must be at least 1, not \(p.maxMessagesPerMinute)"))
            }
            if p.mx.isEmpty { out.append(Problem(key: key, reason: "mx in \(shown) needs at least one host pattern, such as \"*.example.net\"")) }
            for pattern in p.mx {
                let host = pattern.hasPrefix("*.") ? String(pattern.dropFirst(2)) : pattern
                if let why = Self.domainNameProblem(host) {
                    out.append(Problem(key: key, reason: "mx in \(shown): \(TOMLWriter.quote(pattern)) is not a host pattern: \(why)"))
                }
            }
        }
        return out
    }

    /// The reference section for docs/configuration.md.
    static func providersReference() -> String {
        var out = """

            ## `[delivery.providers.NAME]`

            Limits per mail provider, keyed by the provider of the MX host rather than the recipient's domain:
            every MX host that matches one of a provider's patterns counts toward the same limits. When a
            provider answers a message with a 421 or 451 4.7.x rate-limit deferral (Gmail 4.7.28, Outlook
            4.7.650, Yahoo TSS04), its pace is halved for 10 minutes; other providers are not affected.

            - `mx`: list of host patterns; `*.google.com` matches every name ending in `.google.com`.
            - `max_connections`: integer, concurrent SMTP connections to the provider (kept-open idle ones count).
            - `max_messages_per_minute`: integer, messages started per minute.

            Built in (a table of the same name overrides the keys it sets; another name adds a provider):

            ```toml

            """
        for p in Provider.builtIn {
            out += "[delivery.providers.\(p.name)]\nmx = \(TOMLWriter.stringArray(p.mx))\n"
            out += "max_connections = \(p.maxConnections)\nmax_messages_per_minute = \(p.maxMessagesPerMinute)\n"
        }
        return out + "```\n"
    }
}
