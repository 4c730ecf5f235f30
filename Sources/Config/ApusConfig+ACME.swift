extension ApusConfig {
    /// `[acme]`: the built-in ACME client (RFC 8555) that obtains and renews the certificates in `certs/`.
    public struct ACME: Sendable, Equatable {
        /// `email`: the account's contact; a non-empty address turns the client on.
        public var email: String
        /// `directory`: the CA's ACME directory URL.
        public var directory: String
        /// `ca_file`: extra CAs (PEM) trusted for the directory's HTTPS, beside the system store.
        public var caFile: String
        /// `challenge`: `tls-alpn-01` (answered on `[listen] https`) or `http-01` (on `[listen] http`).
        public var challenge: String
        /// `names`: one certificate per name; empty means the host name plus `mta-sts.<domain>` for
        /// each local domain.
        public var names: [String]

        public static let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"
        public static let challenges = ["tls-alpn-01", "http-01"]

        public init(email: String = "", directory: String = ACME.letsEncrypt, caFile: String = "",
                    challenge: String = "tls-alpn-01", names: [String] = []) {
            self.email = email
            self.directory = directory
            self.caFile = caFile
            self.challenge = challenge
            self.names = names
        }

        public var enabled: Bool { !email.isEmpty }

        /// The names to hold certificates for: `names`, or the host name and `mta-sts.<domain>` per domain.
        public func certificateNames(hostname: String, localDomains: [String]) -> [String] {
            if !names.isEmpty { return names.map { $0.lowercased() } }
            var out = [hostname.lowercased()]
            for domain in localDomains.map({ $0.lowercased() }).sorted() where !out.contains("mta-sts.\(domain)") {
                out.append("mta-sts.\(domain)")
            }
            return out
        }
    }

    /// `[mta_sts]`: the MTA-STS policy (RFC 8461) served on `[listen] https` at
    /// `https://mta-sts.<domain>/.well-known/mta-sts.txt` for every local domain.
    public struct MTASTS: Sendable, Equatable {
        /// `mode`: `testing` (report only), `enforce` or `none`.
        public var mode: String
        /// `mx`: MX host patterns; empty means the host name.
        public var mx: [String]
        /// `max_age`: how long senders may cache the policy.
        public var maxAge: ConfigDuration

        public static let modes = ["testing", "enforce", "none"]

        public init(mode: String = "testing", mx: [String] = [], maxAge: ConfigDuration = .days(7)) {
            self.mode = mode
            self.mx = mx
            self.maxAge = maxAge
        }

        /// The policy file, CRLF lines (RFC 8461 §3.2).
        public func policyText(hostname: String) -> String {
            let hosts = mx.isEmpty ? [hostname] : mx
            let lines = ["version: STSv1", "mode: \(mode)"] + hosts.map { "mx: \($0.lowercased())" }
                + ["max_age: \(maxAge.seconds)"]
            return lines.map { $0 + "\r\n" }.joined()
        }

        /// The `id` of the `_mta-sts` TXT record: changes whenever the policy text changes (RFC 8461 §3.1
        /// asks for exactly that). 16 hex digits of a 64-bit FNV-1a hash of the policy.
        public func policyID(hostname: String) -> String {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in policyText(hostname: hostname).utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            let hex = String(hash, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
    }
}
