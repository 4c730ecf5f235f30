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
        // Built as bytes in one buffer (this runs for every message on port 25; a map, joined pieces and
        // per-scalar appends cost 30,000 instructions a message).
        let comment = Self.commentText(comment(receiver: receiver))
        var out: [UInt8] = []
        out.reserveCapacity(comment.utf8.count + pairs.reduce(24) { $0 + $1.0.utf8.count + $1.1.utf8.count + 6 })
        out += result.rawValue.utf8
        out += " (".utf8
        out += comment.utf8
        out += ") ".utf8
        for (i, pair) in pairs.enumerated() {
            if i > 0 { out += "; ".utf8 }
            out += pair.0.utf8
            out.append(UInt8(ascii: "="))
            Self.appendAtomOrQuoted(pair.1, to: &out)
        }
        out.append(UInt8(ascii: ";"))
        return String(decoding: out, as: UTF8.self)
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
    static func isAtext(_ byte: UInt8) -> Bool { atextTable[Int(byte)] }

    static let atextTable: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
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
        var out: [UInt8] = []
        appendAtomOrQuoted(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `atomOrQuoted` appended to bytes: a quoted-string escapes `"` and `\` and turns CR and LF into spaces;
    /// every other byte (UTF-8 sequences included) is copied as it is.
    static func appendAtomOrQuoted(_ text: String, to out: inout [UInt8]) {
        if isDotAtom(text) {
            out += text.utf8
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
            case UInt8(ascii: "\r"), UInt8(ascii: "\n"): out.append(UInt8(ascii: " "))
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
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
