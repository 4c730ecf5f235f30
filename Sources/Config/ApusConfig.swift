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

        public init(servers: [ListenAddress] = []) { self.servers = servers }
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
