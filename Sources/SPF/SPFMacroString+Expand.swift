import DNSCore

/// The values macros expand to (RFC 7208 §7.2). Built once per check; `domain` changes with includes and
/// redirects, `validatedDomain` is filled in (with DNS lookups) only when a string uses `%{p}`.
public struct SPFMacroContext: Sendable, Hashable {
    /// `s`: the sender, `local-part@domain` (postmaster@helo for an empty MAIL FROM).
    public var sender: String
    /// `d`: the domain being checked.
    public var domain: String
    /// The client address (IPv4-mapped IPv6 already turned into IPv4, §5).
    public var ip: IPAddress
    /// `h`: the HELO/EHLO name as given.
    public var helo: String
    /// `p`: the validated domain name of `ip` (§7.3), or "unknown".
    public var validatedDomain: String?
    /// `r`: the receiving host's domain name (explanation text only).
    public var receiver: String
    /// `t`: seconds since the epoch (explanation text only).
    public var timestamp: Int

    public init(sender: String, domain: String, ip: IPAddress, helo: String, validatedDomain: String? = nil,
                receiver: String = "unknown", timestamp: Int = 0) {
        self.sender = sender; self.domain = domain; self.ip = ip; self.helo = helo
        self.validatedDomain = validatedDomain; self.receiver = receiver; self.timestamp = timestamp
    }

    /// `l`: the local part of the sender; "postmaster" when empty (§4.3).
    public var localPart: String {
        guard let at = sender.utf8.lastIndex(of: UInt8(ascii: "@")) else { return "postmaster" }
        let local = sender[..<at]
        return local.isEmpty ? "postmaster" : String(local)
    }

    /// `o`: the domain of the sender.
    public var senderDomain: String {
        guard let at = sender.utf8.lastIndex(of: UInt8(ascii: "@")) else { return sender }
        return String(sender[sender.index(after: at)...])
    }

    /// The unexpanded value of a macro letter.
    public func value(of letter: Character) -> String {
        switch letter {
        case "s": return sender
        case "l": return localPart
        case "o": return senderDomain
        case "d": return domain
        case "i": return Self.dotted(ip)
        case "p": return validatedDomain ?? "unknown"
        case "v": return ip.isIPv4 ? "in-addr" : "ip6"
        case "h": return helo
        case "c": return ip.description
        case "r": return receiver
        case "t": return String(timestamp)
        default: return ""
        }
    }

    /// §7.3: IPv4 dotted quad; IPv6 as 32 dot-separated nibbles (lowercase, as the example in §7.4).
    static func dotted(_ ip: IPAddress) -> String {
        if ip.isIPv4 { return ip.description }
        let digits = Array("0123456789abcdef")
        return ip.bytes.flatMap { [String(digits[Int($0 >> 4)]), String(digits[Int($0 & 0xF)])] }
            .joined(separator: ".")
    }
}

extension SPFMacroString {
    /// Expands every macro (§7.3). The caller fills `context.validatedDomain` first if `usesValidatedDomain`.
    public func expand(_ context: SPFMacroContext) -> String {
        var out = ""
        for token in tokens {
            switch token {
            case .literal(let text): out += text
            case .escape("%"): out += "%"
            case .escape("_"): out += " "
            case .escape(_): out += "%20"
            case .macro(let macro): out += macro.expand(context)
            }
        }
        return out
    }

    /// Expands a domain-spec into a name to look up: §7.3 truncation to 253 characters by dropping labels
    /// on the left, and a final dot removed. Nil if the result is not a valid DNS name (empty label, label
    /// over 63 octets): such a target matches nothing (RFC 7208 §4.3 by analogy; the test suite accepts it).
    public func expandDomain(_ context: SPFMacroContext) -> String? {
        var name = Substring(expand(context))
        if name.hasSuffix(".") { name = name.dropLast() }
        while name.utf8.count > SPFLimits.domainNameLength {
            guard let dot = name.firstIndex(of: ".") else { return nil }
            name = name[name.index(after: dot)...]
        }
        guard !name.isEmpty, SPFName.isValid(name) else { return nil }
        return String(name)
    }
}

extension SPFMacro {
    /// §7.3: split on the delimiters, optionally reverse, keep the right-hand parts, join with ".", and
    /// URL-escape for an uppercase letter.
    func expand(_ context: SPFMacroContext) -> String {
        var value = context.value(of: letter)
        if rightParts != nil || reverse || !delimiters.isEmpty {
            let split = Set(delimiters.isEmpty ? ["."] : delimiters)
            var parts = value.split(omittingEmptySubsequences: false, whereSeparator: { split.contains($0) })
            if reverse { parts.reverse() }
            if let rightParts, rightParts < parts.count { parts = Array(parts.suffix(rightParts)) }
            value = parts.joined(separator: ".")
        }
        return urlEscape ? Self.urlEscape(value) : value
    }

    /// RFC 3986 §2.3 unreserved characters stay; every other octet becomes `%XX` (uppercase hex).
    static func urlEscape(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF")
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}

/// Checks on names used by check_host.
enum SPFName {
    /// A name that can go into a DNS query: non-empty labels of at most 63 octets, at most 253 characters.
    static func isValid(_ name: Substring) -> Bool {
        guard !name.isEmpty, name.utf8.count <= SPFLimits.domainNameLength else { return false }
        var labelLength = 0
        for byte in name.utf8 {
            if byte == UInt8(ascii: ".") {
                guard labelLength > 0 else { return false }
                labelLength = 0
            } else {
                labelLength += 1
                guard labelLength <= DNSCore.maxLabelLength else { return false }
            }
        }
        guard labelLength > 0 else { return false }
        return (try? DNSName(String(name))) != nil
    }

    /// §4.3: the <domain> of check_host must be a valid multi-label name (else the result is "none").
    static func isValidCheckDomain(_ domain: String) -> Bool {
        var name = Substring(domain)
        if name.hasSuffix(".") { name = name.dropLast() }
        guard isValid(name), name.contains("."), !name.hasPrefix("[") else { return false }
        return true
    }
}
