extension ApusConfig {
    /// A problem found by validation: the key (`["limits", "max_recipients"]`) and what is wrong.
    struct Problem {
        var key: [String]
        var reason: String
    }

    /// Checks what the types cannot: a valid host name, valid addresses and ports, positive limits.
    /// The error names the key; `parse` adds the file and line.
    public func validate() throws {
        if let problem = problems().first {
            throw ConfigError(path: nil, line: nil, reason: problem.reason)
        }
    }

    func problems() -> [Problem] {
        var out: [Problem] = []
        func name(_ field: ConfigField) -> String {
            TOMLWriter.quote(field.key) + (field.table.map { " in [\($0)]" } ?? "")
        }
        if let why = Self.domainNameProblem(hostname) {
            out.append(Problem(key: ["hostname"], reason: "\"hostname\" \(TOMLWriter.quote(hostname)) is not a valid host name: \(why)"))
        }
        if dataDir.isEmpty {
            out.append(Problem(key: ["data_dir"], reason: "\"data_dir\" must not be empty"))
        }
        for field in Self.fields {
            switch field.kind {
            case .integer(let keyPath):
                let value = self[keyPath: keyPath]
                if field.key == "smtp_port" {
                    if !(1...65535).contains(value) {
                        out.append(Problem(key: field.keyPath, reason: "\(name(field)) must be a port from 1 to 65535, not \(value)"))
                    }
                } else if field.key == "max_command_line_bytes" {
                    if value < 512 {
                        out.append(Problem(key: field.keyPath, reason: "\(name(field)) must be at least 512 (RFC 5321 §4.5.3.1.4), not \(value)"))
                    }
                } else if value < 1 {
                    out.append(Problem(key: field.keyPath, reason: "\(name(field)) must be at least 1, not \(value)"))
                }
            case .duration(let keyPath):
                let value = self[keyPath: keyPath]
                if value.seconds < 1 && field.key != "delay_warning_after" {
                    out.append(Problem(key: field.keyPath, reason: "\(name(field)) must be at least 1 second, not \(value)"))
                }
            case .addresses(let keyPath, _):
                for address in self[keyPath: keyPath] {
                    if let why = address.problem {
                        out.append(Problem(key: field.keyPath, reason: "\(name(field)): \"\(address)\": \(why)"))
                    }
                }
            case .string, .boolean, .strings:
                break
            }
        }
        if !api.tls, let open = listen.api.first(where: { !$0.isLoopback }) {
            out.append(Problem(key: ["api", "tls"], reason: "\"tls\" in [api] is false but [listen] api has \"\(open)\", which is not a loopback address: keep tls = true, or listen on 127.0.0.1 behind a TLS proxy"))
        }
        if !api.publicURL.isEmpty, !(api.publicURL.hasPrefix("https://") || api.publicURL.hasPrefix("http://")) {
            out.append(Problem(key: ["api", "public_url"], reason: "\"public_url\" in [api] must start with https:// (e.g. \"https://\(hostname):8443\"), not \(TOMLWriter.quote(api.publicURL))"))
        }
        let eventNames = ["queued", "delivered", "deferred", "bounced", "delay", "suppressed", "complained", "unsubscribed"]
        for webhook in webhooks {
            if !(webhook.url.hasPrefix("https://") || webhook.url.hasPrefix("http://")) {
                out.append(Problem(key: ["webhooks"], reason: "[[webhooks]] url \(TOMLWriter.quote(webhook.url)) must be an https:// URL"))
            }
            for name in webhook.events where !eventNames.contains(name) {
                out.append(Problem(key: ["webhooks"], reason: "[[webhooks]] events: unknown event type \(TOMLWriter.quote(name)); one of \(eventNames.joined(separator: ", "))"))
            }
            if webhook.secretFile.isEmpty {
                out.append(Problem(key: ["webhooks"], reason: "[[webhooks]] for \(webhook.url) needs secret_file = \"webhook.secret\" (a file with the signing secret, relative to the config directory)"))
            }
        }
        out += providerProblems()
        if !["starttls", "tls"].contains(delivery.relayTLS) {
            out.append(Problem(key: ["delivery", "relay_tls"],
                               reason: "\"relay_tls\" in [delivery] must be \"starttls\" or \"tls\", not \(TOMLWriter.quote(delivery.relayTLS))"))
        }
        if !["both", "ipv4", "ipv6"].contains(delivery.ipVersion) {
            out.append(Problem(key: ["delivery", "ip_version"],
                               reason: "\"ip_version\" in [delivery] must be \"both\", \"ipv4\" or \"ipv6\", not \(TOMLWriter.quote(delivery.ipVersion))"))
        }
        for (key, value, six) in [("source_ipv4", delivery.sourceIPv4, false), ("source_ipv6", delivery.sourceIPv6, true)]
            where !value.isEmpty && !Self.isIPLiteral(value, v6: six) {
            out.append(Problem(key: ["delivery", key],
                               reason: "\"\(key)\" in [delivery] must be an \(six ? "IPv6" : "IPv4") address of this machine, not \(TOMLWriter.quote(value))"))
        }
        if !delivery.relayAuthFile.isEmpty && delivery.relayHost.isEmpty {
            out.append(Problem(key: ["delivery", "relay_auth_file"],
                               reason: "\"relay_auth_file\" in [delivery] is set but \"relay_host\" is empty: set the smarthost too"))
        }
        if !ACME.challenges.contains(acme.challenge) {
            out.append(Problem(key: ["acme", "challenge"],
                               reason: "\"challenge\" in [acme] must be \"tls-alpn-01\" or \"http-01\", not \(TOMLWriter.quote(acme.challenge))"))
        } else if acme.enabled && acme.challenge == "tls-alpn-01" && listen.https.isEmpty {
            out.append(Problem(key: ["acme", "challenge"],
                               reason: "\"challenge\" in [acme] is \"tls-alpn-01\", which needs [listen] https (e.g. [\"0.0.0.0:443\"])"))
        } else if acme.enabled && acme.challenge == "http-01" && listen.http.isEmpty {
            out.append(Problem(key: ["acme", "challenge"],
                               reason: "\"challenge\" in [acme] is \"http-01\", which needs [listen] http (e.g. [\"0.0.0.0:80\"])"))
        }
        if acme.enabled && !Self.looksLikeAddress(acme.email, allowWildcard: false) {
            out.append(Problem(key: ["acme", "email"], reason: "\"email\" in [acme] \(TOMLWriter.quote(acme.email)) is not an address (user@domain)"))
        }
        for name in acme.names where Self.domainNameProblem(name) != nil {
            out.append(Problem(key: ["acme", "names"], reason: "\"names\" in [acme]: \(TOMLWriter.quote(name)) is not a host name"))
        }
        if !MTASTS.modes.contains(mtaSTS.mode) {
            out.append(Problem(key: ["mta_sts", "mode"],
                               reason: "\"mode\" in [mta_sts] must be \"testing\", \"enforce\" or \"none\", not \(TOMLWriter.quote(mtaSTS.mode))"))
        }
        if mtaSTS.maxAge.seconds > 31_557_600 {
            out.append(Problem(key: ["mta_sts", "max_age"], reason: "\"max_age\" in [mta_sts] must be at most a year (RFC 8461 §3.2)"))
        }
        for key in senders.keys.sorted() {
            let shown = TOMLWriter.quote(key) + " in [senders]"
            if !Self.looksLikeAddress(key, allowWildcard: false) {
                out.append(Problem(key: ["senders", key], reason: "\(shown): the key must be a user's address, user@domain"))
            }
            for sender in senders[key]! where !Self.looksLikeAddress(sender, allowWildcard: true) {
                out.append(Problem(key: ["senders", key],
                                   reason: "\(shown): \(TOMLWriter.quote(sender)) is not an address (user@domain or *@domain)"))
            }
        }
        return out
    }

    /// An IPv4 dotted quad, or (v6) an IPv6 address without brackets.
    static func isIPLiteral(_ text: String, v6: Bool) -> Bool {
        if !v6 {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts.allSatisfy { p in
                !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isASCII) && p.allSatisfy(\.isNumber) && Int(p)! <= 255
            }
        }
        return text.contains(":") && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
            && text.split(separator: ":", omittingEmptySubsequences: false).count <= 8
    }
    /// Whether `text` is an address `local@domain` (for command-line options).
    public static func isAddress(_ text: String) -> Bool { looksLikeAddress(text, allowWildcard: false) }

    /// `local@domain` with a non-empty local part and a valid domain; `*@domain` when wildcards are allowed.
    static func looksLikeAddress(_ text: String, allowWildcard: Bool) -> Bool {
        guard let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at], domain = String(text[text.index(after: at)...])
        guard !local.isEmpty, !local.contains(where: { $0.isWhitespace }) else { return false }
        if local == "*" && !allowWildcard { return false }
        return domainNameProblem(domain) == nil
    }

    /// Why `name` is not a valid domain name (RFC 1035 §2.3.4, letters/digits/hyphens, or U-labels), or nil.
    public static func domainNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "it is empty" }
        if name.utf8.count > 253 { return "it is longer than 253 bytes" }
        if name.hasSuffix(".") { return "remove the final \".\"" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "it has an empty label" }
            if label.utf8.count > 63 { return "the label \"\(label)\" is longer than 63 bytes" }
            if label.hasPrefix("-") || label.hasSuffix("-") { return "the label \"\(label)\" starts or ends with \"-\"" }
            for ch in label.unicodeScalars {
                let ok = ch.isASCII ? (ch.properties.isAlphabetic || ("0"..."9").contains(ch) || ch == "-")
                    : (ch.properties.isAlphabetic || ch.properties.numericType != nil || ch.properties.generalCategory == .nonspacingMark)
                if !ok { return "\"\(Character(ch))\" is not allowed in a host name" }
            }
        }
        return nil
    }
}
