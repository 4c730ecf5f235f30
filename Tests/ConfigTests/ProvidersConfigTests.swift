import Config
import Testing

/// `[delivery.providers.NAME]`: built-in providers, overriding one key, adding one, and the errors.
@Suite struct ProvidersConfigTests {
    @Test func builtInOverriddenAndAdded() throws {
        let config = try ApusConfig.parse("""
            hostname = "mx.example.com"
            [delivery]
            delay_warning_after = "0s"
            [delivery.providers.gmail]
            max_connections = 2
            [delivery.providers.fastmail]
            mx = ["*.messagingengine.com"]
            max_connections = 3
            max_messages_per_minute = 30
            """, path: "apus.toml")
        let byName = Dictionary(uniqueKeysWithValues: config.delivery.providers.map { ($0.name, $0) })
        #expect(Set(byName.keys) == ["gmail", "outlook", "yahoo", "fastmail"])
        #expect(byName["gmail"]?.maxConnections == 2)
        #expect(byName["gmail"]?.maxMessagesPerMinute == 120)       // the built-in value kept
        #expect(byName["gmail"]?.mx == ["*.google.com", "*.googlemail.com"])
        #expect(byName["fastmail"] == ApusConfig.Provider(name: "fastmail", mx: ["*.messagingengine.com"],
                                                           maxConnections: 3, maxMessagesPerMinute: 30))
        #expect(config.delivery.delayWarningAfter.seconds == 0)
    }

    @Test(arguments: [
        ("[delivery.providers.gmail]\nmax_conections = 2\n", "apus.toml:3: unknown key \"max_conections\" in [delivery.providers.gmail] (did you mean \"max_connections\"?)"),
        ("[delivery.providers.gmail]\nmax_connections = 0\n", "max_connections in [delivery.providers.gmail] must be at least 1, not 0"),
        ("[delivery.providers.x]\nmax_connections = 1\n", "mx in [delivery.providers.x] needs at least one host pattern"),
        ("[delivery.providers.x]\nmx = [\"*.bad_host\"]\n", "mx in [delivery.providers.x]: \"*.bad_host\" is not a host pattern"),
        ("[delivery]\nrelay_tls = \"ssl\"\n", "\"relay_tls\" in [delivery] must be \"starttls\" or \"tls\", not \"ssl\""),
    ])
    func errors(toml: String, message: String) {
        do {
            _ = try ApusConfig.parse("hostname = \"mx.example.com\"\n" + toml, path: "apus.toml")
            Issue.record("accepted: \(toml)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
