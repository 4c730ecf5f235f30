/// Mailboxes and paths of the SMTP envelope, RFC 5321 §4.1.2 with the SMTPUTF8 extensions of
/// RFC 6531 §3.3.
///
/// ```
/// Path          = "<" [ A-d-l ":" ] Mailbox ">"
/// A-d-l         = At-domain *( "," At-domain )      ; source route: parsed, then ignored (§4.1.2, §C)
/// Mailbox       = Local-part "@" ( Domain / address-literal )
/// Local-part    = Dot-string / Quoted-string         ; at most 64 octets (§4.5.3.1.1)
/// Domain        = sub-domain *("." sub-domain)       ; at most 255 octets (§4.5.3.1.2)
/// ```

/// The domain of a mailbox: a name (kept in A-label form for comparison) or an address literal.
public enum MailDomain: Sendable, Hashable, CustomStringConvertible {
    /// `ascii` is the lowercased A-label form; `display` is what the client wrote.
    case name(ascii: String, display: String)
    /// The text between the brackets, e.g. `127.0.0.1` or `IPv6:::1`.
    case addressLiteral(String)

    /// The form used to compare and look up: lowercased A-labels, or `[literal]`.
    public var lookupKey: String {
        switch self {
        case .name(let ascii, _): return ascii
        case .addressLiteral(let lit): return "[\(lit)]"
        }
    }

    public var description: String {
        switch self {
        case .name(_, let display): return display
        case .addressLiteral(let lit): return "[\(lit)]"
        }
    }
}

/// `local-part@domain`. `localPart` is the semantic value (quotes and escapes removed).
public struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    public let localPart: String
    public let domain: MailDomain

    public init(localPart: String, domain: MailDomain) {
        self.localPart = localPart
        self.domain = domain
    }

    /// True when the local part or the domain as written needs SMTPUTF8 (RFC 6531).
    public var needsSMTPUTF8: Bool {
        if !localPart.unicodeScalars.allSatisfy(\.isASCII) { return true }
        if case .name(_, let display) = domain, !display.unicodeScalars.allSatisfy(\.isASCII) { return true }
        return false
    }

    /// The local part as it must be written on the wire: a dot-string when possible, else quoted.
    public var encodedLocalPart: String {
        if SMTPGrammar.isDotString(localPart) { return localPart }
        var out = "\""
        for ch in localPart.unicodeScalars {
            if ch == "\"" || ch == "\\" { out += "\\" }
            out.unicodeScalars.append(ch)
        }
        return out + "\""
    }

    /// `local@domain` in wire form (the domain as the client wrote it).
    public var description: String { "\(encodedLocalPart)@\(domain)" }

    /// `local@domain` with the domain in lowercased A-label form: the key for lookups.
    public var lookupKey: String { "\(encodedLocalPart)@\(domain.lookupKey)" }

    /// Parses a bare mailbox (no angle brackets), e.g. from a config file or the command line.
    public static func parse(_ text: String, smtputf8: Bool = true) throws(SMTPReply) -> Mailbox {
        var p = SMTPGrammar(text, smtputf8: smtputf8)
        let m = try p.mailbox()
        guard p.atEnd else { throw .c501BadAddress("Unexpected characters after the address") }
        return m
    }
}

/// The argument of `MAIL FROM:`: a mailbox, or `<>` (the null reverse-path of bounces).
public enum ReversePath: Sendable, Hashable, CustomStringConvertible {
    case null
    case mailbox(Mailbox)

    public var mailbox: Mailbox? { if case .mailbox(let m) = self { return m } else { return nil } }
    public var description: String {
        switch self {
        case .null: return "<>"
        case .mailbox(let m): return "<\(m)>"
        }
    }
}

/// The argument of `RCPT TO:`: a mailbox, or the special `<Postmaster>` (RFC 5321 §4.1.1.3).
public enum ForwardPath: Sendable, Hashable, CustomStringConvertible {
    case postmaster
    case mailbox(Mailbox)

    public var description: String {
        switch self {
        case .postmaster: return "<Postmaster>"
        case .mailbox(let m): return "<\(m)>"
        }
    }
}
