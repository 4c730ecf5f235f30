import DNSCore
import Foundation

/// A cursor over one command's argument text that parses the RFC 5321 §4.1.2 productions.
/// Every failure throws the reply the client should get.
struct SMTPGrammar {
    private let scalars: [Unicode.Scalar]
    private(set) var index = 0
    let smtputf8: Bool

    static let maxLocalPartOctets = 64    // RFC 5321 §4.5.3.1.1
    static let maxDomainOctets = 255      // RFC 5321 §4.5.3.1.2
    static let maxPathOctets = 256        // RFC 5321 §4.5.3.1.3

    init(_ text: some StringProtocol, smtputf8: Bool) {
        self.scalars = Array(text.unicodeScalars)
        self.smtputf8 = smtputf8
    }

    var atEnd: Bool { index >= scalars.count }
    var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }
    var rest: String { var s = ""; s.unicodeScalars.append(contentsOf: scalars[min(index, scalars.count)...]); return s }

    mutating func consume(_ c: Unicode.Scalar) -> Bool {
        if peek == c { index += 1; return true }
        return false
    }

    // atext (RFC 5322 §3.2.3) plus UTF8-non-ascii under SMTPUTF8 (RFC 6531 §3.3).
    static func isAtext(_ c: Unicode.Scalar, utf8: Bool) -> Bool {
        if !c.isASCII { return utf8 }
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9": return true
        default: return "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(c)
        }
    }

    static func isDotString(_ s: String) -> Bool {
        // One pass, no substrings: this runs for every address of every envelope.
        var atomLength = 0
        for scalar in s.unicodeScalars {
            if scalar == "." {
                guard atomLength > 0 else { return false }
                atomLength = 0
            } else if isAtext(scalar, utf8: true) {
                atomLength += 1
            } else {
                return false
            }
        }
        return atomLength > 0
    }

    /// Path = "<" [ A-d-l ":" ] Mailbox ">"
    mutating func path() throws(SMTPReply) -> Mailbox {
        guard consume("<") else { throw .c501BadAddress("Address must be enclosed in <angle brackets>") }
        if peek == "@" { try sourceRoute() }
        let m = try mailbox()
        guard consume(">") else { throw .c501BadAddress("Address must end with '>' (unexpected character after the address)") }
        return m
    }

    /// A-d-l ":" — accepted and ignored (RFC 5321 §4.1.2 and Appendix C: "SHOULD NOT" be used,
    /// servers "MUST" accept and MAY ignore). Only the final mailbox decides where mail goes.
    private mutating func sourceRoute() throws(SMTPReply) {
        repeat {
            guard consume("@") else { throw .c501BadAddress("Malformed source route") }
            _ = try domainName()
        } while consume(",")
        guard consume(":") else { throw .c501BadAddress("Malformed source route: expected ':'") }
    }

    /// Mailbox = Local-part "@" ( Domain / address-literal )
    mutating func mailbox() throws(SMTPReply) -> Mailbox {
        let local = try localPart()
        guard local.utf8.count <= Self.maxLocalPartOctets else {
            throw .c501BadAddress("Local part longer than 64 octets")
        }
        guard consume("@") else { throw .c501BadAddress("Address needs a domain: local-part@domain") }
        let domain: MailDomain
        if peek == "[" {
            domain = try addressLiteral()
        } else {
            domain = try domainName()
        }
        return Mailbox(localPart: local, domain: domain)
    }

    /// Local-part = Dot-string / Quoted-string
    mutating func localPart() throws(SMTPReply) -> String {
        if consume("\"") {
            var value = ""
            while true {
                guard let c = peek else { throw .c501BadAddress("Unterminated quoted local part") }
                index += 1
                if c == "\"" { break }
                if c == "\\" {
                    // quoted-pairSMTP = %d92 %d32-126
                    guard let e = peek, e.value >= 32, e.value <= 126 else {
                        throw .c501BadAddress("Invalid escape in quoted local part")
                    }
                    index += 1
                    value.unicodeScalars.append(e)
                    continue
                }
                // qtextSMTP = %d32-33 / %d35-91 / %d93-126, plus UTF8-non-ascii under SMTPUTF8
                if c.isASCII {
                    guard c.value >= 32, c.value <= 126 else {
                        throw .c501BadAddress("Control character in quoted local part")
                    }
                } else if !smtputf8 {
                    throw .c553SMTPUTF8Required
                }
                value.unicodeScalars.append(c)
            }
            return value
        }
        var value = ""
        var atomLength = 0
        while let c = peek {
            if c == "." {
                guard atomLength > 0 else { throw .c501BadAddress("Empty atom in local part (misplaced '.')") }
                atomLength = 0
            } else if Self.isAtext(c, utf8: true) {
                if !c.isASCII && !smtputf8 { throw .c553SMTPUTF8Required }
                atomLength += 1
            } else {
                break
            }
            value.unicodeScalars.append(c)
            index += 1
        }
        guard !value.isEmpty else { throw .c501BadAddress("Missing local part") }
        guard atomLength > 0 else { throw .c501BadAddress("Local part must not end with '.'") }
        return value
    }

    /// Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str] / U-label
    mutating func domainName() throws(SMTPReply) -> MailDomain {
        var display = ""
        var labelLength = 0
        var lastWasHyphen = false
        while let c = peek {
            if c == "." {
                guard labelLength > 0 else { throw .c501BadAddress("Empty label in domain") }
                guard !lastWasHyphen else { throw .c501BadAddress("Domain label must not end with '-'") }
                labelLength = 0
            } else if c == "-" {
                guard labelLength > 0 else { throw .c501BadAddress("Domain label must not start with '-'") }
                labelLength += 1
            } else if c.isASCII ? (("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c))
                                : c.properties.isAlphabetic {
                if !c.isASCII && !smtputf8 { throw .c553SMTPUTF8Required }
                labelLength += 1
            } else {
                break
            }
            lastWasHyphen = c == "-"
            display.unicodeScalars.append(c)
            index += 1
        }
        guard !display.isEmpty else { throw .c501BadAddress("Missing domain") }
        guard labelLength > 0, !lastWasHyphen else { throw .c501BadAddress("Malformed domain \(display)") }
        guard let ascii = IDNA.domainToASCII(display) else { throw .c501BadAddress("Invalid internationalized domain \(display)") }
        guard ascii.utf8.count <= Self.maxDomainOctets else { throw .c501BadAddress("Domain longer than 255 octets") }
        return .name(ascii: ascii, display: display)
    }

    /// address-literal = "[" ( IPv4-address-literal / IPv6-address-literal / General-address-literal ) "]"
    mutating func addressLiteral() throws(SMTPReply) -> MailDomain {
        _ = consume("[")
        var text = ""
        while let c = peek, c != "]" {
            // dcontent = %d33-90 / %d94-126
            guard c.isASCII, (33...90).contains(c.value) || (94...126).contains(c.value) else {
                throw .c501BadAddress("Invalid character in address literal")
            }
            text.unicodeScalars.append(c)
            index += 1
        }
        guard consume("]"), !text.isEmpty else { throw .c501BadAddress("Malformed address literal") }
        if text.lowercased().hasPrefix("ipv6:") {
            guard IPAddressSyntax.isIPv6(String(text.dropFirst(5))) else {
                throw .c501BadAddress("Malformed IPv6 address literal")
            }
        } else if !IPAddressSyntax.isIPv4(text) {
            throw .c501BadAddress("Malformed address literal (use [1.2.3.4] or [IPv6:…])")
        }
        return .addressLiteral(text)
    }
}

/// Textual IP address checks for address literals (RFC 5321 §4.1.3).
public enum IPAddressSyntax {
    public static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isASCII) && p.allSatisfy(\.isNumber) && Int(p)! <= 255
        }
    }

    public static func isIPv6(_ s: String) -> Bool {
        var body = Substring(s)
        var groupsAllowed = 8
        if let lastColon = body.lastIndex(of: ":"), body[body.index(after: lastColon)...].contains(".") {
            guard isIPv4(String(body[body.index(after: lastColon)...])) else { return false }
            body = body[...lastColon]
            if body.hasSuffix(":") && !body.hasSuffix("::") { body = body.dropLast() }
            groupsAllowed = 6
        }
        let halves = body.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        func groups(_ h: String) -> [Substring]? {
            if h.isEmpty { return [] }
            let g = h.split(separator: ":", omittingEmptySubsequences: false)
            return g.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy(\.isHexDigit) }) ? g : nil
        }
        guard let first = groups(halves[0]) else { return false }
        if halves.count == 2 {
            guard let second = groups(halves[1]) else { return false }
            return first.count + second.count < groupsAllowed
        }
        return first.count == groupsAllowed
    }
}
