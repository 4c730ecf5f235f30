import Config
import Testing
@testable import Chasquid

/// chasquid.conf → ApusConfig, setting by setting.
@Suite struct ChasquidConfigTests {
    static func map(_ text: String) throws -> (ApusConfig, [ImportNote]) {
        let config = try ChasquidConfig.parse(Array(text.utf8))
        return config.apusConfig(machineHostname: "host.example", dataDir: "/srv/apus")
    }

    @Test func anEmptyFileGivesChasquidsDefaults() throws {
        let (config, notes) = try Self.map("# nothing set\n")
        #expect(config.hostname == "host.example")
        #expect(config.dataDir == "/srv/apus")
        #expect(config.limits.maxMessageBytes == 50 * 1024 * 1024)
        #expect(config.listen.mx == ApusConfig.Listen.defaultMX)
        #expect(config.listen.submissions == ApusConfig.Listen.defaultSubmissions)
        #expect(config.delivery.mda == "maildrop -f \"$SENDER\" -d \"$USER\"")
        #expect(config.delivery.giveUpAfter == .hours(20))
        #expect(config.aliases == .init(dropCharacters: ".", suffixSeparators: "+"))
        let texts = notes.map(\.text)
        #expect(texts.contains { $0.hasPrefix("smtp_address \"systemd\" (chasquid's default)") && $0.contains("chasquid-smtp.socket not found") })
        #expect(texts.contains { $0.hasPrefix("no hostname") })
        #expect(texts.contains { $0.contains("maildrop") })
    }

    @Test func nonDefaultValuesAreCarriedOver() throws {
        let (config, notes) = try Self.map("""
            hostname: "mx.example.test"
            max_data_size_mb: 20
            smtp_address: ":25"
            smtp_address: "127.0.0.1:2525"
            submission_address: "[::1]:587"
            submission_over_tls_address: "systemd"
            monitoring_address: "127.0.0.1:1099"
            mail_delivery_agent_bin: "/usr/local/bin/my mda"
            mail_delivery_agent_args: ["--from=%from%", "%to_user%@%to_domain%", "it's", "%from_user%"]
            suffix_separators: "+-"
            drop_characters: "._"
            give_up_send_after: "72h30m"
            mail_log_path: "<stdout>"
            dovecot_auth: true
            haproxy_incoming: true
            max_queue_items: 500
            future_setting: 1
            """)
        #expect(config.hostname == "mx.example.test")
        #expect(config.limits.maxMessageBytes == 20 * 1024 * 1024)
        #expect(config.listen.mx.map(\.description) == ["0.0.0.0:25", "[::]:25", "127.0.0.1:2525"])
        #expect(config.listen.submission.map(\.description) == ["[::1]:587"])
        #expect(config.listen.submissions == ApusConfig.Listen.defaultSubmissions)
        #expect(config.listen.admin.map(\.description) == ["127.0.0.1:1099"])
        #expect(config.delivery.mda == #"'/usr/local/bin/my mda' --from="$SENDER" "$USER"@"$DOMAIN" 'it'\''s' "${SENDER%@*}""#)
        #expect(config.delivery.giveUpAfter == .minutes(72 * 60 + 30))
        #expect(config.aliases == .init(dropCharacters: "._", suffixSeparators: "+-"))
        let notImported = notes.filter { $0.kind == .notImported }.map(\.text)
        for word in ["mail_log_path", "dovecot_auth", "haproxy_incoming", "max_queue_items 500", "unknown setting \"future_setting\""] {
            #expect(notImported.contains { $0.contains(word) }, "\(word) not reported: \(notImported)")
        }
        #expect(notes.contains { $0.source == "chasquid.conf:17" })
        // The rendered apus.toml reads back as the same configuration.
        #expect(try ApusConfig.parse(config.render(), path: "apus.toml") == config)
    }

    @Test func mdaLMTPOverTCPBecomesLMTP() throws {
        let (tcp, _) = try Self.map("""
            mail_delivery_agent_bin: "/usr/bin/mda-lmtp"
            mail_delivery_agent_args: ["--addr", "127.0.0.1:24", "-f", "%from%", "-d", "%to%"]
            """)
        #expect(tcp.delivery.lmtp == "127.0.0.1:24")
        #expect(tcp.delivery.mda == "")
        let (socket, _) = try Self.map("""
            mail_delivery_agent_bin: "/usr/bin/mda-lmtp"
            mail_delivery_agent_args: ["--addr", "/run/dovecot/lmtp", "-f", "%from%", "-d", "%to%"]
            """)
        #expect(socket.delivery.lmtp == "")
        #expect(socket.delivery.mda == #"/usr/bin/mda-lmtp --addr /run/dovecot/lmtp -f "$SENDER" -d "$RECIPIENT""#)
    }

    static let malformed: [(String, Int, String)] = [
        ("hostname: \"a\"\nhostname: \"b\"", 2, "given twice (first on line 1)"),
        ("max_data_size_mb: \"big\"", 1, "must be a number"),
        ("\nmax_data_size_mb: 1e3", 2, "must be an integer"),
        ("hostname: 12", 1, "must be a quoted string"),
        ("dovecot_auth: maybe", 1, "must be true or false"),
        ("hostname: \"\\xff\"", 1, "not valid UTF-8"),
        ("hostname: \"mx.example.com\n", 1, "not closed"),
    ]

    @Test(arguments: malformed) func malformedConfigNamesTheLine(_ input: String, _ line: Int, _ reason: String) {
        do {
            _ = try ChasquidConfig.parse(Array(input.utf8))
            Issue.record("parsed")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    @Test(arguments: [("20h", 72000), ("72h30m", 261_000), ("1.5h", 5400), ("90s", 90), ("300ms", 0), ("0", 0),
                      ("1h1m1s", 3661), ("2m30.5s", 151)])
    func goDurations(_ text: String, _ seconds: Int) {
        #expect(GoDuration.seconds(text) == seconds)
    }

    @Test(arguments: ["", "h", "5", "5x", "1.2.3h", "-", "5 h"])
    func notGoDurations(_ text: String) {
        #expect(GoDuration.seconds(text) == nil)
    }
}

/// chasquid's default listeners come from its systemd socket units; their addresses are carried over.
@Suite struct SystemdSocketUnitTests {
    @Test(arguments: [
        (["[Unit]\nDescription=x\n\n[Socket]\nListenStream=25\nFileDescriptorName=smtp\n"], [":25"]),
        (["[Socket]\nListenStream=25\n", "[Socket]\nListenStream=\nListenStream=127.0.0.1:2525\nListenStream = [::1]:2525\n"],
         ["127.0.0.1:2525", "[::1]:2525"]),
        (["[Socket]\nListenStream=/run/chasquid.sock\nListenStream=@abstract\nListenDatagram=53\n[Install]\nListenStream=99\n"], []),
        ([String](), []),
    ])
    func listenStreams(_ files: [String], _ expected: [String]) {
        #expect(SystemdSocketUnit.listenStreams(files) == expected)
    }

    @Test func systemdListenersUseTheUnitsAddresses() throws {
        let config = try ChasquidConfig.parse(Array("submission_address: \"systemd\"\n".utf8))
        let (apus, notes) = config.apusConfig(machineHostname: "h", dataDir: "/d",
                                              systemdSockets: ["chasquid-smtp.socket": [":2525"],
                                                               "chasquid-submission.socket": ["127.0.0.1:587"]])
        #expect(apus.listen.mx.map(\.description) == ["0.0.0.0:2525", "[::]:2525"])
        #expect(apus.listen.submission.map(\.description) == ["127.0.0.1:587"])
        #expect(apus.listen.submissions == ApusConfig.Listen.defaultSubmissions)
        #expect(notes.contains { $0.text.contains("the ListenStream= of chasquid-smtp.socket (:2525): 0.0.0.0:2525, [::]:2525") })
        #expect(notes.contains { $0.text.contains("chasquid-submission_tls.socket not found; assumed 0.0.0.0:465, [::]:465") })
    }
}
