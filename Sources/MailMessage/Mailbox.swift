/// One mailbox of an address header (RFC 5322 §3.4): an address with an optional display name.
///
/// `parse` takes what an application writes in a JSON field: `addr@example.com`, `<addr@example.com>`,
/// `Name <addr@example.com>`, `"Last, First" <addr@example.com>` (backslash escapes `\"` and `\\`), with any
/// Unicode in the name. Since the input is one mailbox, an unquoted name may hold specials such as a comma
/// (`Last, First <a@x>`). The address must be ASCII once a Unicode domain is turned into its A-labels
/// (`a@bücher.example` → `a@xn--bcher-kva.example`, RFC 5891): a dot-atom local part (§3.4.1, at most 64
/// octets; a non-ASCII one would need SMTPUTF8) and a host name of letters, digits and hyphens (at most 253).
///
/// `headerValue` writes it back in RFC 5322 form: the name bare when it is atoms and spaces, quoted when it
/// has specials, as RFC 2047 encoded-words when it is not ASCII.
import DNSCore

public struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    public var name: String?
    public var address: String

    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address
    }

    public static func parse(_ s: String, field: String) throws -> Mailbox {
        func fail(_ message: String) -> MIMEBuildError { MIMEBuildError(field: field, message: message) }
        if let bad = s.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw fail("control character U+\(String(bad.value, radix: 16, uppercase: true)) in \"\(printable(s))\"")
        }
        let text = trimmed(Substring(s))
        guard !text.isEmpty else { throw fail("empty address") }
        guard text.last == ">" else {
            if text.contains("<") { throw fail("\"\(text)\" has a \"<\" without a closing \">\"") }
            return Mailbox(address: try asciiAddress(text, fail))
        }
        guard let open = text.lastIndex(of: "<") else { throw fail("\"\(text)\" has a \">\" without an opening \"<\"") }
        let address = try asciiAddress(text[text.index(after: open)..<text.index(before: text.endIndex)], fail)
        let name = try displayName(trimmed(text[..<open]), fail)
        return Mailbox(name: name, address: address)
    }

    /// The name as written before `<`: a quoted string (unescaped) or the bare text; nil when empty.
    static func displayName(_ raw: Substring, _ fail: (String) -> MIMEBuildError) throws -> String? {
        guard raw.first == "\"" else {
            if raw.contains("\"") { throw fail("a display name with a quote must be quoted as a whole: \"\\\"…\\\"\"") }
            if raw.contains("<") || raw.contains(">") { throw fail("\"<\" or \">\" in the display name \"\(raw)\"") }
            return raw.isEmpty ? nil : String(raw)
        }
        var name = ""
        var index = raw.index(after: raw.startIndex)
        while index < raw.endIndex {
            let c = raw[index]
            if c == "\"" {
                guard raw.index(after: index) == raw.endIndex else {
                    throw fail("text after the closing quote of the display name: \"\(raw)\"")
                }
                return name.isEmpty ? nil : name
            }
            if c == "\\" {
                index = raw.index(after: index)
                guard index < raw.endIndex else { break }
                name.append(raw[index])
            } else {
                name.append(c)
            }
            index = raw.index(after: index)
        }
        throw fail("the display name's quote is not closed: \(raw)")
    }

    /// An addr-spec Apus can send to, `dot-atom@host.name` in ASCII; a Unicode domain becomes its A-labels.
    static func asciiAddress(_ address: Substring, _ fail: (String) -> MIMEBuildError) throws -> String {
        var result = String(address)
        if let at = address.utf8.lastIndex(of: UInt8(ascii: "@")), address[address.index(after: at)...].utf8.contains(where: { $0 >= 0x80 }),
           let domain = aLabels(address[address.index(after: at)...]) {
            result = address[..<at] + "@" + domain
        }
        if let why = problem(address: result) { throw fail(why) }
        return result
    }

    /// A domain with each label as its lowercased A-label (RFC 5891 §4.4), or nil when one cannot be encoded.
    static func aLabels(_ domain: Substring) -> String? {
        var labels: [String] = []
        for label in domain.split(separator: ".", omittingEmptySubsequences: false) {
            guard let ascii = try? IDNA.toASCII(label: String(label)) else { return nil }
            labels.append(ascii.lowercased())
        }
        return labels.joined(separator: ".")
    }

    /// Why `address` is not an addr-spec Apus can send to, or nil.
    static func problem(address: some StringProtocol) -> String? {
        let address = Substring(address)
        guard let at = address.utf8.lastIndex(of: UInt8(ascii: "@")) else { return "\"\(address)\" is not an address (no @)" }
        let local = address[..<at], domain = address[address.index(after: at)...]
        if local.utf8.contains(where: { $0 >= 0x80 }) {
            return "\"\(address)\": a non-ASCII local part needs SMTPUTF8, which the send API does not offer"
        }
        guard !local.isEmpty, local.utf8.count <= 64 else { return "\"\(address)\": the local part must be 1 to 64 characters" }
        let atoms = local.split(separator: ".", omittingEmptySubsequences: false)
        guard atoms.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isAtext) }) else {
            return "\"\(address)\": the local part must be atoms separated by single dots (RFC 5322 §3.4.1)"
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard !domain.isEmpty, domain.utf8.count <= 253, labels.allSatisfy(isLabel) else {
            return "\"\(address)\": \"\(domain)\" is not a host name"
        }
        return nil
    }

    static func isLabel(_ label: Substring) -> Bool {
        let bytes = Array(label.utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else {
            return false
        }
        return bytes.allSatisfy { isLetterOrDigit($0) || $0 == UInt8(ascii: "-") }
    }

    static func isLetterOrDigit(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// atext (RFC 5322 §3.2.3): letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
    static func isAtext(_ b: UInt8) -> Bool {
        isLetterOrDigit(b) || "!#$%&'*+-/=?^_`{|}~".utf8.contains(b)
    }

    static func trimmed(_ s: Substring) -> Substring {
        var s = s
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }

    static func printable(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
    }

    /// RFC 5322 form: `addr@x`, `Name <addr@x>`, `"Last, First" <addr@x>`, `=?UTF-8?B?…?= <addr@x>`.
    public var headerValue: String {
        guard let name, !name.isEmpty else { return address }
        return "\(Self.phrase(name)) <\(address)>"
    }

    public var description: String { headerValue }

    /// A display name as a phrase: atoms, a quoted string, or encoded-words.
    static func phrase(_ name: String) -> String {
        if EncodedWord.isNeeded(name) || name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return EncodedWord.encode(name).joined(separator: " ")
        }
        let words = name.split(separator: " ", omittingEmptySubsequences: false)
        if words.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isAtext) }) { return name }
        var quoted = "\""
        for c in name {
            if c == "\"" || c == "\\" { quoted.append("\\") }
            quoted.append(c)
        }
        return quoted + "\""
    }
}
