/// Header fields that record an SPF result.
///
/// Received-SPF, RFC 7208 §9.1:
/// ```
/// header-field     = "Received-SPF:" [CFWS] result FWS [comment FWS] [ key-value-list ] CRLF
/// key-value-list   = key-value-pair *( ";" [CFWS] key-value-pair ) [";"]
/// key-value-pair   = key [CFWS] "=" ( dot-atom / quoted-string )
/// key              = "client-ip" / "envelope-from" / "helo" / "problem" / "receiver" / "identity"
///                    / "mechanism" / name
/// ```
/// Authentication-Results `spf` method, RFC 8601 §2.7.2: `spf=<result> smtp.mailfrom=<sender>` (or
/// `smtp.helo=<name>` for a HELO check).
extension SPFCheckResult {
    /// The Received-SPF field, unfolded, without CRLF: `Received-SPF: pass (…) client-ip=…; …`.
    /// `receiver` is our host name.
    public func receivedSPFHeader(receiver: String) -> String {
        "Received-SPF: " + receivedSPFValue(receiver: receiver)
    }

    /// The field body of Received-SPF.
    public func receivedSPFValue(receiver: String) -> String {
        var pairs: [(String, String)] = [
            ("client-ip", ip.description),
            ("envelope-from", sender),
            ("helo", helo),
        ]
        if let problem, result == .permerror || result == .temperror { pairs.append(("problem", problem)) }
        if let mechanism { pairs.append(("mechanism", mechanism)) }
        pairs.append(("receiver", receiver))
        pairs.append(("identity", identity.rawValue))
        let list = pairs.map { "\($0.0)=\(Self.atomOrQuoted($0.1))" }.joined(separator: "; ")
        return "\(result.rawValue) (\(Self.commentText(comment(receiver: receiver)))) \(list);"
    }

    /// The human-readable comment, in the words receivers commonly use.
    public func comment(receiver: String) -> String {
        let who = identity == .helo ? helo : sender
        switch result {
        case .pass: return "\(receiver): domain of \(who) designates \(ip) as permitted sender"
        case .fail: return "\(receiver): domain of \(who) does not designate \(ip) as permitted sender"
        case .softfail:
            return "\(receiver): domain of transitioning \(who) does not designate \(ip) as permitted sender"
        case .neutral: return "\(receiver): \(ip) is neither permitted nor denied by domain of \(who)"
        case .none: return "\(receiver): domain of \(who) does not designate permitted sender hosts"
        case .permerror:
            return "\(receiver): permanent error in processing domain of \(domain): \(problem ?? "unknown")"
        case .temperror:
            return "\(receiver): temporary error in processing domain of \(domain): \(problem ?? "unknown")"
        }
    }

    /// The `spf=` part of an Authentication-Results header (RFC 8601 §2.7.2), e.g.
    /// `spf=pass smtp.mailfrom=user@example.com`.
    public var authenticationResultsPart: String {
        switch identity {
        case .helo: return "spf=\(result.rawValue) smtp.helo=\(Self.atomOrQuoted(helo))"
        case .mailfrom:
            // pvalue = [ [ local-part ] "@" ] domain-name; a local part that is not a dot-atom is dropped.
            let at = sender.utf8.lastIndex(of: UInt8(ascii: "@"))
            let local = at.map { String(sender[..<$0]) } ?? ""
            let domainPart = at.map { String(sender[sender.index(after: $0)...]) } ?? sender
            if Self.isDotAtom(local), Self.isDotAtom(domainPart) {
                return "spf=\(result.rawValue) smtp.mailfrom=\(local)@\(domainPart)"
            }
            return "spf=\(result.rawValue) smtp.mailfrom=\(Self.atomOrQuoted(domainPart))"
        }
    }

    /// RFC 5322 atext.
    static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }

    static func isDotAtom(_ text: String) -> Bool {
        // One pass over the bytes (this runs for every field of every message's Received-SPF header).
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                if previous == UInt8(ascii: ".") { return false }
            } else if !isAtext(byte) {
                return false
            }
            previous = byte
        }
        return previous != UInt8(ascii: ".")
    }

    /// `text` as a dot-atom when it is one, else as a quoted-string (so addresses are quoted, as in §9.1).
    static func atomOrQuoted(_ text: String) -> String {
        if isDotAtom(text) { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\": out += "\\" + String(scalar)
            case "\r", "\n": out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Comment text with parentheses and backslashes escaped (RFC 5322 §3.2.2 ctext / quoted-pair).
    static func commentText(_ text: String) -> String {
        let special = { (byte: UInt8) in
            byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")") || byte == UInt8(ascii: "\\")
                || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
        }
        if !text.utf8.contains(where: special) { return text }   // the usual case: nothing to escape
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "(", ")", "\\": out += "\\" + String(scalar)
            case "\r", "\n": out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
