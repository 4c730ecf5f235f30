#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The settings in `apus.toml` (DESIGN.md §3). Every field has a default; `ApusConfig()` is the configuration
/// of an empty file.
public struct ApusConfig: Sendable, Equatable {
    /// `hostname`: the name in EHLO, Received headers and DSNs. Default: the machine's host name.
    public var hostname: String
    /// `data_dir`: queue, state and local mailboxes.
    public var dataDir: String
    public var listen: Listen
    public var limits: Limits
    public var dns: DNS
    public var delivery: Delivery
    public var aliases: Aliases
    /// `[senders]`: for an authenticated user's address (as written in the file), the extra envelope senders
    /// that user may use: addresses, or `*@domain` for any address in a domain.
    public var senders: [String: [String]]
    /// `[checks]`: sender authentication of mail arriving on port 25 without AUTH.
    public var checks = Checks()
    /// `[api]`: the HTTP send API on `[listen] api`.
    public var api = API()
    /// `[events]`: the record of what happened to each message.
    public var events = Events()
    /// `[suppression]`: addresses never to send to again (hard bounces, complaints, unsubscribes).
    public var suppression = Suppression()
    /// `[[webhooks]]`: endpoints that receive each event as a signed POST.
    public var webhooks: [Webhook] = []

    /// `[api]`
    public struct API: Sendable, Equatable {
        /// `public_url`: base of the links Apus puts in messages (one-click unsubscribe), e.g.
        /// "https://mx.example.com:8443"; empty turns `"unsubscribe": true` off.
        public var publicURL: String
        /// `tls`: serve the API over HTTPS with the certificates of certs/; false only when every `[listen] api`
        /// address is loopback (a reverse proxy in front).
        public var tls: Bool
        public init(publicURL: String = "", tls: Bool = true) {
            self.publicURL = publicURL
            self.tls = tls
        }
    }

    /// `[events]`
    public struct Events: Sendable, Equatable {
        /// `keep`: how long events are kept.
        public var keep: ConfigDuration
        public init(keep: ConfigDuration = .days(30)) { self.keep = keep }
    }

    /// `[suppression]`
    public struct Suppression: Sendable, Equatable {
        /// `smtp`: also refuse SMTP submissions to suppressed addresses (the API always applies the list).
        public var smtp: Bool
        /// `complaints_address`: where ARF feedback reports (RFC 5965) arrive; empty: none.
        public var complaintsAddress: String
        public init(smtp: Bool = false, complaintsAddress: String = "") {
            self.smtp = smtp
            self.complaintsAddress = complaintsAddress
        }
    }

    /// One `[[webhooks]]` table.
    public struct Webhook: Sendable, Equatable {
        /// `url`: where events are POSTed (https, or http on loopback).
        public var url: String
        /// `events`: the event types sent; empty: all.
        public var events: [String]
        /// `secret_file`: the HMAC secret for `Apus-Signature`, relative to the config directory.
        public var secretFile: String
        /// The line of the `[[webhooks]]` header (for messages), 0 when built in code.
        public var line: Int = 0
        public init(url: String, events: [String] = [], secretFile: String = "") {
            self.url = url
            self.events = events
            self.secretFile = secretFile
        }
        public static func == (a: Webhook, b: Webhook) -> Bool {
            a.url == b.url && a.events == b.events && a.secretFile == b.secretFile
        }
    }
    /// `[acme]`: built-in certificates from an ACME CA.
    public var acme = ACME()
    /// `[mta_sts]`: the MTA-STS policy served on `[listen] https`.
    public var mtaSTS = MTASTS()

    /// `[checks]`: SPF at MAIL FROM, DKIM and DMARC after DATA (DESIGN.md §4).
    public struct Checks: Sendable, Equatable {
        /// Check SPF, DKIM and DMARC and record them in Authentication-Results.
        public var enabled: Bool
        /// Refuse an SPF `fail` with 550 5.7.23 (else only record it).
        public var rejectSPFFail: Bool
        /// Refuse a DMARC failure whose policy is `p=reject` with 550 5.7.1 (else only record it).
        public var rejectDMARCFailures: Bool

        public init(enabled: Bool = true, rejectSPFFail: Bool = true, rejectDMARCFailures: Bool = true) {
            self.enabled = enabled
            self.rejectSPFFail = rejectSPFFail
            self.rejectDMARCFailures = rejectDMARCFailures
        }
    }

    public init(
        hostname: String = ApusConfig.machineHostname(),
        dataDir: String = "/var/lib/apus",
        listen: Listen = Listen(),
        limits: Limits = Limits(),
        dns: DNS = DNS(),
        delivery: Delivery = Delivery(),
        aliases: Aliases = Aliases(),
        senders: [String: [String]] = [:]
    ) {
        self.hostname = hostname
        self.dataDir = dataDir
        self.listen = listen
        self.limits = limits
        self.dns = dns
        self.delivery = delivery
        self.aliases = aliases
        self.senders = senders
    }

    /// `[listen]`: where to accept connections. Each is a list of addresses; an empty list turns it off.
    public struct Listen: Sendable, Equatable {
        /// `mx`: SMTP from other servers (port 25), STARTTLS offered.
        public var mx: [ListenAddress]
        /// `submission`: mail submission from users (port 587, STARTTLS, AUTH required).
        public var submission: [ListenAddress]
        /// `submissions`: mail submission over implicit TLS (port 465, AUTH required).
        public var submissions: [ListenAddress]
        /// `admin`: HTTP for /metrics, /healthz and the API.
        public var admin: [ListenAddress]
        /// `api`: the HTTP send API, events, suppressions and unsubscribe links (HTTPS unless `[api] tls = false`).
        public var api: [ListenAddress] = []
        /// `http`: plain HTTP (port 80): ACME HTTP-01 answers, everything else redirected to HTTPS.
        public var http: [ListenAddress] = []
        /// `https`: port 443: ACME TLS-ALPN-01 answers and the MTA-STS policy.
        public var https: [ListenAddress] = []

        public static let defaultMX = [ListenAddress(host: "0.0.0.0", port: 25), ListenAddress(host: "::", port: 25)]
        public static let defaultSubmission = [ListenAddress(host: "0.0.0.0", port: 587), ListenAddress(host: "::", port: 587)]
        public static let defaultSubmissions = [ListenAddress(host: "0.0.0.0", port: 465), ListenAddress(host: "::", port: 465)]
        public static let defaultAdmin = [ListenAddress(host: "127.0.0.1", port: 8025)]

        public init(
            mx: [ListenAddress] = Listen.defaultMX,
            submission: [ListenAddress] = Listen.defaultSubmission,
            submissions: [ListenAddress] = Listen.defaultSubmissions,
            admin: [ListenAddress] = Listen.defaultAdmin
        ) {
            self.mx = mx
            self.submission = submission
            self.submissions = submissions
            self.admin = admin
        }
    }

    /// `[limits]`: every limit the server enforces on a client, with RFC-based defaults.
    public struct Limits: Sendable, Equatable {
        /// `max_message_bytes`: the largest message accepted, advertised with SIZE (RFC 1870). Default 50 MiB.
        public var maxMessageBytes: Int
        /// `max_recipients`: recipients per message; RFC 5321 §4.5.3.1.8 requires accepting at least 100.
        /// More get `452 4.5.3`.
        public var maxRecipients: Int
        /// `max_command_line_bytes`: the longest command line, CRLF included. RFC 5321 §4.5.3.1.4 sets 512
        /// plus what extensions need; AUTH lines (RFC 4954) carry base64 and need more. Default 4096.
        public var maxCommandLineBytes: Int
        /// `max_errors`: bad commands in a session before `421` closes it. Default 10.
        public var maxErrors: Int
        /// `command_timeout`: how long to wait for the next command; RFC 5321 §4.5.3.2.7 says at least 5 minutes.
        public var commandTimeout: ConfigDuration
        /// `data_timeout`: how long to wait for more DATA bytes (RFC 5321 §4.5.3.2.6 says 3 minutes at
        /// least between blocks). Default 10 minutes.
        public var dataTimeout: ConfigDuration
        /// `min_data_rate`: bytes per second a client must keep up during DATA. Each read moves the DATA
        /// deadline on by its size divided by this rate, never past `data_timeout` from now, so a client that
        /// dribbles a byte every few seconds is closed within `data_timeout` (Postfix's
        /// `smtpd_min_data_rate` with `smtpd_per_request_deadline`). Default 500.
        public var minDataRate: Int
        /// `max_connections`: connections at once, over all listeners.
        public var maxConnections: Int
        /// `max_connections_per_ip`: connections at once from one client IP address.
        public var maxConnectionsPerIP: Int
        /// `max_auth_failures`: failed AUTH attempts from one client IP within `auth_failure_window`; after
        /// that AUTH is refused to that IP until the window has passed.
        public var maxAuthFailures: Int
        /// `auth_failure_window`: see `max_auth_failures`. Default 15 minutes.
        public var authFailureWindow: ConfigDuration

        public init(
            maxMessageBytes: Int = 52_428_800,
            maxRecipients: Int = 100,
            maxCommandLineBytes: Int = 4096,
            maxErrors: Int = 10,
            commandTimeout: ConfigDuration = .minutes(5),
            dataTimeout: ConfigDuration = .minutes(10),
            minDataRate: Int = 500,
            maxConnections: Int = 1000,
            maxConnectionsPerIP: Int = 20,
            maxAuthFailures: Int = 5,
            authFailureWindow: ConfigDuration = .minutes(15)
        ) {
            self.maxMessageBytes = maxMessageBytes
            self.maxRecipients = maxRecipients
            self.maxCommandLineBytes = maxCommandLineBytes
            self.maxErrors = maxErrors
            self.commandTimeout = commandTimeout
            self.dataTimeout = dataTimeout
            self.minDataRate = minDataRate
            self.maxConnections = maxConnections
            self.maxConnectionsPerIP = maxConnectionsPerIP
            self.maxAuthFailures = maxAuthFailures
            self.authFailureWindow = authFailureWindow
        }
    }

    /// `[dns]`
    public struct DNS: Sendable, Equatable {
        /// `servers`: resolvers to ask, `"IP"` or `"IP:PORT"` (port 53 when absent). Empty: those in
        /// /etc/resolv.conf.
        public var servers: [ListenAddress]
        /// `dnssec`: the servers validate DNSSEC and the path to them is trusted, so their AD bit can be
        /// believed; turns DANE (RFC 7672) on for outbound mail. Default false (docs/security.md, "DANE").
        public var dnssec: Bool

        public init(servers: [ListenAddress] = [], dnssec: Bool = false) {
            self.servers = servers
            self.dnssec = dnssec
        }
    }

    /// `[delivery]`: sending mail to other servers.
    public struct Delivery: Sendable, Equatable {
        /// `smtp_port`: the port of remote MX hosts. Always 25 on the internet; tests point it at a sink.
        public var smtpPort: Int
        /// `give_up_after`: how long to retry a message before bouncing it. Default 5 days.
        public var giveUpAfter: ConfigDuration
        /// `ca_file`: PEM file of CAs to trust for outbound TLS; empty means the system trust store.
        public var caFile: String
        /// `hold_remote`: keep mail for other domains in the queue instead of sending it (`apus dev` sets it:
        /// nothing leaves the machine). `apus queue retry` after turning it off sends it.
        public var holdRemote: Bool
        /// `"host:port"` of an LMTP server (Dovecot) for local mailboxes; empty: Apus writes Maildirs.
        public var lmtp: String = ""
        /// A command (run with /bin/sh) that delivers one local message from standard input, e.g. a
        /// procmail or Dovecot `deliver` line; `$RECIPIENT`, `$SENDER`, `$USER` and `$DOMAIN` are set.
        /// Exit 0 delivered, 75 (EX_TEMPFAIL) try later, anything else bounce. Empty: Maildirs.
        public var mda: String = ""
        /// High-water mark of the queue: below this many free bytes on the queue's file system new
        /// messages get `452 4.3.1` (the queue itself has no item cap).
        public var queueMinFreeBytes: Int = 268_435_456
        /// `delay_warning_after`: one RFC 3464 "delayed" DSN to the sender when a message is still queued
        /// this long after it arrived; zero never.
        public var delayWarningAfter: ConfigDuration = .hours(4)
        /// `relay_host`: the smarthost, "host:port"; empty: deliver to each domain's MX hosts.
        public var relayHost: String = ""
        /// `relay_auth_file`: a file holding "user password" for the smarthost; relative to the config
        /// directory unless absolute; empty: no AUTH.
        public var relayAuthFile: String = ""
        /// `relay_tls`: "starttls" (submission, 587) or "tls" (implicit, 465).
        public var relayTLS: String = "starttls"
        /// `ip_version`: "both", "ipv4" or "ipv6": the address families outbound connections use.
        public var ipVersion: String = "both"
        /// `source_ipv4`, `source_ipv6`: our addresses to connect from; empty lets the kernel choose.
        public var sourceIPv4: String = ""
        public var sourceIPv6: String = ""
        /// `[delivery.providers.NAME]`: limits per mail provider (built in: gmail, outlook, yahoo).
        public var providers: [Provider] = Provider.builtIn
        /// `tls_reports`: count outbound TLS results and send daily TLS-RPT reports (RFC 8460) to the domains
        /// that publish `_smtp._tls` with `rua=mailto:`.
        public var tlsReports: Bool = true

        public init(smtpPort: Int = 25, giveUpAfter: ConfigDuration = .days(5), caFile: String = "",
                    holdRemote: Bool = false) {
            self.smtpPort = smtpPort
            self.giveUpAfter = giveUpAfter
            self.caFile = caFile
            self.holdRemote = holdRemote
        }
    }

    /// `[aliases]`: how a recipient's local part is matched to a user (as chasquid does).
    public struct Aliases: Sendable, Equatable {
        /// `drop_characters`: characters removed from a local part before the lookup (`"."`: `j.doe` → `jdoe`).
        public var dropCharacters: String
        /// `suffix_separators`: the first of these characters and everything after it are removed before the
        /// lookup (`"+"`: `jdoe+news` → `jdoe`).
        public var suffixSeparators: String

        public init(dropCharacters: String = ".", suffixSeparators: String = "+") {
            self.dropCharacters = dropCharacters
            self.suffixSeparators = suffixSeparators
        }
    }

    /// The extra envelope senders allowed for an authenticated address, matching the `[senders]` key
    /// case-insensitively.
    public func extraSenders(for address: String) -> [String] {
        let wanted = address.lowercased()
        return senders.filter { $0.key.lowercased() == wanted }.sorted { $0.key < $1.key }.flatMap(\.value)
    }

    /// The machine's host name (`gethostname`), or `"localhost"` if it has none.
    public static func machineHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}
