/// The keys of `apus.toml`, in file order, each with its Swift field and the comment `render()` writes.
/// Parsing, rendering and "did you mean" all read this one table, so they cannot drift apart.
struct ConfigField {
    enum Kind {
        case string(WritableKeyPath<ApusConfig, String>)
        case integer(WritableKeyPath<ApusConfig, Int>)
        case duration(WritableKeyPath<ApusConfig, ConfigDuration>)
        case boolean(WritableKeyPath<ApusConfig, Bool>)
        /// A list of `"host:port"`; with a default port, a bare host is allowed too.
        case addresses(WritableKeyPath<ApusConfig, [ListenAddress]>, defaultPort: Int?)
        /// A list of strings (names, patterns).
        case strings(WritableKeyPath<ApusConfig, [String]>)
    }

    /// nil for the top level, else the `[table]`.
    var table: String?
    var key: String
    var kind: Kind
    /// One line: what the key does (the default is added by `render()`).
    var comment: String

    var keyPath: [String] { (table.map { [$0] } ?? []) + [key] }
}

/// `[table]` headers in file order, with the comment `render()` writes above each.
let configTables: [(name: String, comment: String)] = [
    ("listen", "Where to accept connections: lists of \"host:port\" (IPv6 as \"[::]:25\"); an empty list turns one off."),
    ("limits", "Limits on clients; the defaults follow the RFCs."),
    ("dns", "DNS resolution."),
    ("delivery", "Delivery to other mail servers."),
    ("aliases", "How the local part of a recipient address is matched to a user."),
    ("checks", "Sender authentication of mail arriving without AUTH: SPF at MAIL FROM, DKIM and DMARC after DATA."),
    ("api", "The HTTP send API on [listen] api (docs/api.md)."),
    ("events", "The record of what happened to every message (GET /v1/events, apus events, webhooks)."),
    ("suppression", "Addresses never to send to again: hard bounces, complaints, unsubscribes, manual entries."),
    ("acme", "Certificates from an ACME CA (Let's Encrypt by default), obtained and renewed by Apus itself."),
    ("mta_sts", "The MTA-STS policy (RFC 8461) served at https://mta-sts.<domain>/.well-known/mta-sts.txt on [listen] https."),
    ("senders", "Extra envelope senders an authenticated user may use: \"user@domain\" = [\"other@domain\", \"*@domain\"]."),
]

extension ApusConfig {
    static var fields: [ConfigField] {
        [
            .init(table: nil, key: "hostname", kind: .string(\.hostname),
                  comment: "The name this server gives in EHLO, Received headers and bounces (DSNs)."),
            .init(table: nil, key: "data_dir", kind: .string(\.dataDir),
                  comment: "Directory of the mail queue (queue/), the server's state (state/) and local users' Maildirs (mail/)."),

            .init(table: "listen", key: "mx", kind: .addresses(\.listen.mx, defaultPort: nil),
                  comment: "SMTP from other mail servers (port 25); STARTTLS is offered."),
            .init(table: "listen", key: "submission", kind: .addresses(\.listen.submission, defaultPort: nil),
                  comment: "Mail submission by users (port 587): STARTTLS, then AUTH is required."),
            .init(table: "listen", key: "submissions", kind: .addresses(\.listen.submissions, defaultPort: nil),
                  comment: "Mail submission over implicit TLS (port 465); AUTH is required."),
            .init(table: "listen", key: "admin", kind: .addresses(\.listen.admin, defaultPort: nil),
                  comment: "HTTP for /metrics, /healthz and the admin API; keep it on loopback."),
            .init(table: "listen", key: "api", kind: .addresses(\.listen.api, defaultPort: nil),
                  comment: "The HTTP send API (HTTPS with the certificates of certs/), e.g. [\"0.0.0.0:8443\"]."),
            .init(table: "listen", key: "http", kind: .addresses(\.listen.http, defaultPort: nil),
                  comment: "Plain HTTP (port 80): ACME http-01 answers; every other request is redirected to https."),
            .init(table: "listen", key: "https", kind: .addresses(\.listen.https, defaultPort: nil),
                  comment: "HTTPS (port 443): ACME tls-alpn-01 answers and the MTA-STS policy."),

            .init(table: "limits", key: "max_message_bytes", kind: .integer(\.limits.maxMessageBytes),
                  comment: "Largest message accepted, in bytes; advertised with SIZE (RFC 1870)."),
            .init(table: "limits", key: "max_recipients", kind: .integer(\.limits.maxRecipients),
                  comment: "Recipients per message; more get 452 4.5.3 (RFC 5321 §4.5.3.1.8 asks for at least 100)."),
            .init(table: "limits", key: "max_command_line_bytes", kind: .integer(\.limits.maxCommandLineBytes),
                  comment: "Longest command line, CRLF included; at least 512 (RFC 5321 §4.5.3.1.4), more for AUTH's base64 (RFC 4954)."),
            .init(table: "limits", key: "max_errors", kind: .integer(\.limits.maxErrors),
                  comment: "Bad commands in one session before the server says 421 and closes it."),
            .init(table: "limits", key: "command_timeout", kind: .duration(\.limits.commandTimeout),
                  comment: "Time allowed for each whole command line, however the bytes trickle in (RFC 5321 §4.5.3.2.7: at least 5 minutes)."),
            .init(table: "limits", key: "data_timeout", kind: .duration(\.limits.dataTimeout),
                  comment: "How long to wait for more message data after DATA (RFC 5321 §4.5.3.2.6)."),
            .init(table: "limits", key: "min_data_rate", kind: .integer(\.limits.minDataRate),
                  comment: "Bytes per second a client must keep up during DATA; a slower one is closed within data_timeout."),
            .init(table: "limits", key: "max_connections", kind: .integer(\.limits.maxConnections),
                  comment: "Connections at once, over all listeners; one more is answered 421 and closed."),
            .init(table: "limits", key: "max_connections_per_ip", kind: .integer(\.limits.maxConnectionsPerIP),
                  comment: "Connections at once from one client IP address; one more is answered 421 and closed."),
            .init(table: "limits", key: "max_auth_failures", kind: .integer(\.limits.maxAuthFailures),
                  comment: "Failed AUTH attempts per client IP within auth_failure_window; then AUTH is refused."),
            .init(table: "limits", key: "auth_failure_window", kind: .duration(\.limits.authFailureWindow),
                  comment: "The window for max_auth_failures, and how long AUTH stays refused."),

            .init(table: "dns", key: "servers", kind: .addresses(\.dns.servers, defaultPort: 53),
                  comment: "Resolvers to ask, \"IP\" or \"IP:PORT\"; empty means those in /etc/resolv.conf."),
            .init(table: "dns", key: "dnssec", kind: .boolean(\.dns.dnssec),
                  comment: "True only when these resolvers validate DNSSEC and the path to them is trusted (e.g. unbound on 127.0.0.1): their AD bit is then believed and outbound mail uses DANE (RFC 7672)."),

            .init(table: "delivery", key: "smtp_port", kind: .integer(\.delivery.smtpPort),
                  comment: "Port to connect to on remote mail servers, 1 to 65535; 25 on the internet (tests point it at a sink)."),
            .init(table: "delivery", key: "give_up_after", kind: .duration(\.delivery.giveUpAfter),
                  comment: "How long to retry a message before giving up and returning it to its sender with a bounce (DSN)."),
            .init(table: "delivery", key: "ca_file", kind: .string(\.delivery.caFile),
                  comment: "PEM file of CAs for outgoing TLS; empty means the system trust store."),
            .init(table: "delivery", key: "delay_warning_after", kind: .duration(\.delivery.delayWarningAfter),
                  comment: "Send the sender one \"delayed\" notice (RFC 3464) when a message is still queued this long after it arrived; \"0s\" never."),
            .init(table: "delivery", key: "relay_host", kind: .string(\.delivery.relayHost),
                  comment: "Smarthost \"host:port\" that receives all mail for other domains (when outbound port 25 is blocked); empty: each domain's MX hosts."),
            .init(table: "delivery", key: "relay_auth_file", kind: .string(\.delivery.relayAuthFile),
                  comment: "File with one line \"user password\" for AUTH at the smarthost, relative to the config directory; empty: no AUTH."),
            .init(table: "delivery", key: "relay_tls", kind: .string(\.delivery.relayTLS),
                  comment: "TLS to the smarthost: \"starttls\" (port 587) or \"tls\" (implicit, port 465); never plaintext."),
            .init(table: "delivery", key: "ip_version", kind: .string(\.delivery.ipVersion),
                  comment: "Address families for outgoing connections: \"both\", \"ipv4\" (e.g. when the IPv6 address has no matching PTR: Gmail refuses such mail) or \"ipv6\"."),
            .init(table: "delivery", key: "source_ipv4", kind: .string(\.delivery.sourceIPv4),
                  comment: "IPv4 address of this machine to send from; empty lets the system choose."),
            .init(table: "delivery", key: "source_ipv6", kind: .string(\.delivery.sourceIPv6),
                  comment: "IPv6 address of this machine to send from; empty lets the system choose."),
            .init(table: "delivery", key: "hold_remote", kind: .boolean(\.delivery.holdRemote),
                  comment: "Keep mail for other domains queued instead of sending it (apus dev turns this on)."),
            .init(table: "delivery", key: "tls_reports", kind: .boolean(\.delivery.tlsReports),
                  comment: "Count outgoing TLS results and mail daily TLS-RPT reports (RFC 8460) to domains that publish _smtp._tls rua=mailto:."),
            .init(table: "delivery", key: "queue_min_free_bytes", kind: .integer(\.delivery.queueMinFreeBytes),
                  comment: "Refuse new mail with 452 4.3.1 while the queue's disk has less free space than this."),
            .init(table: "delivery", key: "mda", kind: .string(\.delivery.mda),
                  comment: "Shell command delivering a local message on stdin ($RECIPIENT, $SENDER, $USER, $DOMAIN set); exit 75 retries, other non-zero bounces. Empty: Maildirs."),
            .init(table: "delivery", key: "lmtp", kind: .string(\.delivery.lmtp),
                  comment: "LMTP server (\"127.0.0.1:24\", e.g. Dovecot) for local users' mail; empty: Maildirs under data_dir/mail."),

            .init(table: "aliases", key: "drop_characters", kind: .string(\.aliases.dropCharacters),
                  comment: "Characters removed from a local part before lookup (\".\": j.doe@ reaches jdoe)."),
            .init(table: "aliases", key: "suffix_separators", kind: .string(\.aliases.suffixSeparators),
                  comment: "The first of these and all after it are removed before lookup (\"+\": jdoe+news@ reaches jdoe)."),

            .init(table: "checks", key: "enabled", kind: .boolean(\.checks.enabled),
                  comment: "Check SPF, DKIM and DMARC of incoming mail and add Authentication-Results."),
            .init(table: "checks", key: "reject_spf_fail", kind: .boolean(\.checks.rejectSPFFail),
                  comment: "Refuse mail whose SPF result is fail (550 5.7.23); false only records it."),
            .init(table: "checks", key: "reject_dmarc_failures", kind: .boolean(\.checks.rejectDMARCFailures),
                  comment: "Refuse mail failing DMARC when the sender's policy is p=reject (550 5.7.1)."),

            .init(table: "api", key: "public_url", kind: .string(\.api.publicURL),
                  comment: "Base URL of links in messages (one-click unsubscribe), e.g. \"https://mx.example.com:8443\"."),
            .init(table: "api", key: "tls", kind: .boolean(\.api.tls),
                  comment: "Serve the API over HTTPS; false only when every [listen] api address is loopback (behind a proxy)."),
            .init(table: "events", key: "keep", kind: .duration(\.events.keep),
                  comment: "How long events are kept (idempotency records: 24 hours)."),
            .init(table: "suppression", key: "smtp", kind: .boolean(\.suppression.smtp),
                  comment: "Also refuse SMTP submissions to suppressed addresses (550 5.7.1); the API always applies the list."),
            .init(table: "suppression", key: "complaints_address", kind: .string(\.suppression.complaintsAddress),
                  comment: "Address where ARF complaint reports (RFC 5965) arrive, e.g. \"fbl@example.com\"; empty: none."),
            .init(table: "acme", key: "email", kind: .string(\.acme.email),
                  comment: "Contact address of the ACME account; non-empty turns the built-in ACME client on."),
            .init(table: "acme", key: "directory", kind: .string(\.acme.directory),
                  comment: "The CA's ACME directory URL."),
            .init(table: "acme", key: "ca_file", kind: .string(\.acme.caFile),
                  comment: "PEM file of extra CAs trusted for the directory's HTTPS (beside the system store)."),
            .init(table: "acme", key: "challenge", kind: .string(\.acme.challenge),
                  comment: "tls-alpn-01 (needs [listen] https on port 443) or http-01 (needs [listen] http on port 80)."),
            .init(table: "acme", key: "names", kind: .strings(\.acme.names),
                  comment: "One certificate per name, in certs/<name>/; empty: hostname plus mta-sts.<domain> per local domain."),

            .init(table: "mta_sts", key: "mode", kind: .string(\.mtaSTS.mode),
                  comment: "testing (senders only report), enforce (senders refuse unverified TLS) or none."),
            .init(table: "mta_sts", key: "mx", kind: .strings(\.mtaSTS.mx),
                  comment: "MX host names (or *.example.com) senders may deliver to; empty: hostname."),
            .init(table: "mta_sts", key: "max_age", kind: .duration(\.mtaSTS.maxAge),
                  comment: "How long senders may cache the policy (at most a year)."),
        ]
    }
}
