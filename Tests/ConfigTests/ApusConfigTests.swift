import Foundation
import Testing
@testable import Config

@Suite struct ApusConfigTests {
    static let path = "/etc/apus/apus.toml"

    /// The example in DESIGN.md §3, verbatim.
    static let designExample = """
        hostname = "mx.example.com"           # EHLO name, Received, DSN
        data_dir = "/var/lib/apus"
        [listen]                              # each a list of "host:port"; empty list = off
        mx = ["0.0.0.0:25", "[::]:25"]
        submission = ["0.0.0.0:587", "[::]:587"]
        submissions = ["0.0.0.0:465", "[::]:465"]
        admin = ["127.0.0.1:8025"]            # HTTP: /metrics, /healthz, API
        [limits]
        max_message_bytes = 52428800
        max_recipients = 100
        [dns]
        servers = []                          # empty = /etc/resolv.conf; tests use ["127.0.0.1:5353"]
        [delivery]
        smtp_port = 25                        # tests point outbound delivery at a sink on another port
        give_up_after = "5d"
        ca_file = ""                          # empty = system trust store; tests use their own test CA
        [aliases]
        drop_characters = "."
        suffix_separators = "+"
        """

    @Test func designExampleIsTheDefault() throws {
        let config = try ApusConfig.parse(Self.designExample, path: Self.path)
        #expect(config == ApusConfig(hostname: "mx.example.com"))
    }

    @Test func defaults() throws {
        let config = try ApusConfig.parse("hostname = \"mx.example.com\"", path: Self.path)
        #expect(config.dataDir == "/var/lib/apus")
        #expect(config.listen.mx.map(\.description) == ["0.0.0.0:25", "[::]:25"])
        #expect(config.listen.submission.map(\.description) == ["0.0.0.0:587", "[::]:587"])
        #expect(config.listen.submissions.map(\.description) == ["0.0.0.0:465", "[::]:465"])
        #expect(config.listen.admin.map(\.description) == ["127.0.0.1:8025"])
        #expect(config.limits.maxMessageBytes == 52_428_800)
        #expect(config.limits.maxRecipients == 100)
        #expect(config.limits.maxCommandLineBytes == 4096)
        #expect(config.limits.maxErrors == 10)
        #expect(config.limits.commandTimeout.seconds == 300)
        #expect(config.limits.dataTimeout.seconds == 600)
        #expect(config.limits.maxConnections == 1000)
        #expect(config.limits.maxConnectionsPerIP == 20)
        #expect(config.limits.maxAuthFailures == 5)
        #expect(config.limits.authFailureWindow.seconds == 900)
        #expect(config.dns.servers.isEmpty)
        #expect(!config.dns.dnssec)
        #expect(config.delivery.smtpPort == 25)
        #expect(config.delivery.giveUpAfter.seconds == 432_000)
        #expect(config.delivery.caFile == "")
        #expect(config.aliases.dropCharacters == ".")
        #expect(config.aliases.suffixSeparators == "+")
        #expect(config.senders.isEmpty)
    }

    @Test func emptyFileTakesTheMachineHostname() throws {
        let config = try ApusConfig.parse("", path: Self.path)
        #expect(config.hostname == ApusConfig.machineHostname())
        #expect(!config.hostname.isEmpty)
    }

    @Test func everyKeySet() throws {
        let text = """
            hostname = "mail.example.org"
            data_dir = '/srv/apus'
            [listen]
            mx = ["127.0.0.1:2525"]
            submission = []
            submissions = ["[::1]:4650", "localhost:4651"]
            admin = []
            [limits]
            max_message_bytes = 10_485_760
            max_recipients = 50
            max_command_line_bytes = 1000
            max_errors = 3
            command_timeout = "30s"
            data_timeout = 120
            max_connections = 10
            max_connections_per_ip = 2
            max_auth_failures = 3
            auth_failure_window = "1h"
            [dns]
            servers = ["127.0.0.1:5353", "::1"]
            dnssec = true
            [delivery]
            smtp_port = 2526
            give_up_after = "2h"
            ca_file = "/tmp/ca.pem"
            [aliases]
            drop_characters = ""
            suffix_separators = "+-"
            [senders]
            "alice@example.org" = ["info@example.org", "*@example.net"]
            """
        let c = try ApusConfig.parse(text, path: Self.path)
        #expect(c.hostname == "mail.example.org")
        #expect(c.dataDir == "/srv/apus")
        #expect(c.listen.mx == [ListenAddress(host: "127.0.0.1", port: 2525)])
        #expect(c.listen.submission.isEmpty)
        #expect(c.listen.submissions == [ListenAddress(host: "::1", port: 4650), ListenAddress(host: "localhost", port: 4651)])
        #expect(c.listen.admin.isEmpty)
        #expect(c.limits == ApusConfig.Limits(
            maxMessageBytes: 10_485_760, maxRecipients: 50, maxCommandLineBytes: 1000, maxErrors: 3,
            commandTimeout: .seconds(30), dataTimeout: .minutes(2), maxConnections: 10, maxConnectionsPerIP: 2,
            maxAuthFailures: 3, authFailureWindow: .hours(1)))
        #expect(c.dns.servers == [ListenAddress(host: "127.0.0.1", port: 5353), ListenAddress(host: "::1", port: 53)])
        #expect(c.dns.dnssec)
        #expect(c.delivery == ApusConfig.Delivery(smtpPort: 2526, giveUpAfter: .hours(2), caFile: "/tmp/ca.pem"))
        #expect(c.aliases == ApusConfig.Aliases(dropCharacters: "", suffixSeparators: "+-"))
        #expect(c.senders == ["alice@example.org": ["info@example.org", "*@example.net"]])
        #expect(c.extraSenders(for: "Alice@Example.ORG") == ["info@example.org", "*@example.net"])
        #expect(c.extraSenders(for: "bob@example.org").isEmpty)
    }

    /// Each bad file and the exact error text.
    static let errors: [(text: String, message: String)] = [
        ("hostname = \"mx.example.com\"\n[limits]\nmax_recipient = 5",
         "/etc/apus/apus.toml:3: unknown key \"max_recipient\" in [limits] (did you mean \"max_recipients\"?)"),
        ("hostnme = \"x\"",
         "/etc/apus/apus.toml:1: unknown key \"hostnme\" at the top level (did you mean \"hostname\"?)"),
        ("frobnicate = 1",
         "/etc/apus/apus.toml:1: unknown key \"frobnicate\" at the top level"),
        ("listen = []",
         "/etc/apus/apus.toml:1: unknown key \"listen\" at the top level (listen is a table: write [listen] on a line of its own)"),
        ("\n[limit]\nmax_recipients = 5",
         "/etc/apus/apus.toml:2: unknown table [limit] (did you mean [limits]?)"),
        ("[limits]\nmax_recipients = \"100\"",
         "/etc/apus/apus.toml:2: \"max_recipients\" in [limits] must be an integer, not a string"),
        ("hostname = 5",
         "/etc/apus/apus.toml:1: \"hostname\" must be a string, not an integer"),
        ("[listen]\nmx = \"0.0.0.0:25\"",
         "/etc/apus/apus.toml:2: \"mx\" in [listen] must be an array of \"host:port\" strings, not a string"),
        ("[listen]\nmx = [25]",
         "/etc/apus/apus.toml:2: \"mx\" in [listen] must hold strings, not an integer"),
        ("[listen]\nmx = [\n\"0.0.0.0:25\",\n\"0.0.0.0:99999\"]",
         "/etc/apus/apus.toml:2: \"mx\" in [listen]: \"0.0.0.0:99999\": the port must be a number from 0 to 65535 (0: any free port)"),
        ("[listen]\nadmin = [\"mx.example.com:8025\"]",
         "/etc/apus/apus.toml:2: \"admin\" in [listen]: \"mx.example.com:8025\": the host must be an IP address or \"localhost\", not \"mx.example.com\""),
        ("[limits]\ncommand_timeout = \"5 minutes\"",
         "/etc/apus/apus.toml:2: \"command_timeout\" in [limits]: \"5 minutes\" is not a duration; write \"30s\", \"5m\", \"2h\" or \"5d\""),
        ("[limits]\ndata_timeout = true",
         "/etc/apus/apus.toml:2: \"data_timeout\" in [limits] must be a duration such as \"5m\", not a boolean"),
        ("hostname = \"mx.example.com\"\n[limits]\nmax_recipients = 0",
         "/etc/apus/apus.toml:3: \"max_recipients\" in [limits] must be at least 1, not 0"),
        ("hostname = \"mx.example.com\"\n[limits]\nmax_command_line_bytes = 100",
         "/etc/apus/apus.toml:3: \"max_command_line_bytes\" in [limits] must be at least 512 (RFC 5321 §4.5.3.1.4), not 100"),
        ("hostname = \"mx.example.com\"\n[limits]\ncommand_timeout = 0",
         "/etc/apus/apus.toml:3: \"command_timeout\" in [limits] must be at least 1 second, not 0s"),
        ("hostname = \"mx.example.com\"\n[delivery]\nsmtp_port = 70000",
         "/etc/apus/apus.toml:3: \"smtp_port\" in [delivery] must be a port from 1 to 65535, not 70000"),
        ("hostname = \"\"",
         "/etc/apus/apus.toml:1: \"hostname\" \"\" is not a valid host name: it is empty"),
        ("hostname = \"mx_1.example.com\"",
         "/etc/apus/apus.toml:1: \"hostname\" \"mx_1.example.com\" is not a valid host name: \"_\" is not allowed in a host name"),
        ("hostname = \"mx.example.com.\"",
         "/etc/apus/apus.toml:1: \"hostname\" \"mx.example.com.\" is not a valid host name: remove the final \".\""),
        ("hostname = \"-mx.example.com\"",
         "/etc/apus/apus.toml:1: \"hostname\" \"-mx.example.com\" is not a valid host name: the label \"-mx\" starts or ends with \"-\""),
        ("hostname = \"mx.example.com\"\ndata_dir = \"\"",
         "/etc/apus/apus.toml:2: \"data_dir\" must not be empty"),
        ("hostname = \"mx.example.com\"\n[senders]\n\"alice\" = [\"x@example.com\"]",
         "/etc/apus/apus.toml:3: \"alice\" in [senders]: the key must be a user's address, user@domain"),
        ("hostname = \"mx.example.com\"\n[senders]\n\"alice@example.com\" = [\"nobody\"]",
         "/etc/apus/apus.toml:3: \"alice@example.com\" in [senders]: \"nobody\" is not an address (user@domain or *@domain)"),
        ("[senders]\n\"alice@example.com\" = \"x@example.com\"",
         "/etc/apus/apus.toml:2: \"alice@example.com\" in [senders] must be an array of addresses, not a string"),
        ("hostname = \"a\"\nhostname = \"b\"",
         "/etc/apus/apus.toml:2: duplicate key hostname (first set on line 1)"),
        ("[limits]\nmax_errors = 1\n[limits]",
         "/etc/apus/apus.toml:3: duplicate table [limits]"),
        ("[limits]\nmax_errors = 1.5",
         "/etc/apus/apus.toml:2: floating-point numbers are not supported"),
    ]

    @Test(arguments: errors)
    func reportsErrors(text: String, message: String) {
        #expect {
            try ApusConfig.parse(text, path: Self.path)
        } throws: { error in
            let ok = (error as? ConfigError)?.description == message
            if !ok { Issue.record("got: \(error)") }
            return ok
        }
    }

    static func variant(_ change: (inout ApusConfig) -> Void) -> ApusConfig {
        var config = ApusConfig(hostname: "mx.example.com")
        change(&config)
        return config
    }

    static let roundTripConfigs: [ApusConfig] = [
        ApusConfig(hostname: "mx.example.com"),
        variant { $0.hostname = "a" },
        variant {
            $0.hostname = "bücher.example"
            $0.dataDir = "/tmp/data \"with\" quotes\\and\ttabs"
            $0.listen = .init(mx: [], submission: [.init(host: "::1", port: 1)], submissions: [.init(host: "localhost", port: 65535)], admin: [])
            $0.limits = .init(maxMessageBytes: 1, maxRecipients: 1, maxCommandLineBytes: 512, maxErrors: 1,
                              commandTimeout: .seconds(1), dataTimeout: .seconds(5401), maxConnections: 1,
                              maxConnectionsPerIP: 1, maxAuthFailures: 1, authFailureWindow: .days(30))
            $0.dns.servers = [.init(host: "127.0.0.1", port: 5353), .init(host: "2001:db8::53", port: 53)]
            $0.dns.dnssec = true
            $0.delivery = .init(smtpPort: 2525, giveUpAfter: .seconds(90), caFile: "/etc/ssl/test ca.pem")
            $0.aliases = .init(dropCharacters: "", suffixSeparators: "+-=")
            $0.senders = ["alice@example.com": ["info@example.com", "*@example.org"],
                          "Bob@Example.com": [], "z@example.com": ["a@b.example"]]
        },
    ]

    @Test(arguments: roundTripConfigs)
    func renderRoundTrips(config: ApusConfig) throws {
        let text = config.render()
        let parsed = try ApusConfig.parse(text, path: "rendered.toml")
        #expect(parsed == config)
    }

    @Test func renderCommentsEveryKey() {
        let text = ApusConfig(hostname: "mx.example.com").render()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for field in ApusConfig.fields {
            guard let index = lines.firstIndex(where: { $0.hasPrefix("\(field.key) = ") }) else {
                Issue.record("no line for \(field.key)"); continue
            }
            #expect(lines[index - 1].hasPrefix("# "), "\(field.key) has no comment")
            #expect(lines[index - 1].contains("Default: "), "\(field.key) comment has no default")
        }
        #expect(text.contains("[senders]"))
        #expect(text.contains("max_message_bytes = 52428800"))
        #expect(text.contains("mx = [\"0.0.0.0:25\", \"[::]:25\"]"))
        #expect(text.contains("give_up_after = \"5d\""))
    }

    @Test func validateNamesTheKey() {
        var config = ApusConfig(hostname: "mx.example.com")
        #expect(throws: Never.self) { try config.validate() }
        config.limits.maxConnectionsPerIP = -1
        config.listen.mx = [ListenAddress(host: "0.0.0.0", port: 70000)]
        #expect {
            try config.validate()
        } throws: { error in
            "\(error)" == "\"mx\" in [listen]: \"0.0.0.0:70000\": the port must be a number from 0 to 65535 (0: any free port)"
        }
    }

    @Test func loadReadsTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("apus-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        #expect {
            try ApusConfig.load(configDirectory: dir)
        } throws: { error in
            "\(error)" == "\(dir)/apus.toml: no such file; create a configuration with `apus init DOMAIN`, or try `apus dev`"
        }
        let config = ApusConfig(hostname: "mx.example.test")
        try config.render().write(toFile: dir + "/apus.toml", atomically: true, encoding: .utf8)
        #expect(try ApusConfig.load(configDirectory: dir) == config)
        #expect(try ApusConfig.load(configDirectory: dir + "/") == config)

        try "[limits]\nmax_recipients = -3\n".write(toFile: dir + "/apus.toml", atomically: true, encoding: .utf8)
        #expect {
            try ApusConfig.load(configDirectory: dir)
        } throws: { error in
            "\(error)".hasPrefix("\(dir)/apus.toml:2: \"max_recipients\" in [limits] must be at least 1")
        }
    }
}
