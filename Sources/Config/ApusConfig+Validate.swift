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
                if value.seconds < 1 {
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
