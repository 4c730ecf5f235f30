/// An SPF record (RFC 7208 §4.5, §4.6, §12): `v=spf1` then terms separated by one or more spaces.
///
/// ```
/// record           = version terms *SP
/// version          = "v=spf1"
/// terms            = *( 1*SP ( directive / modifier ) )
/// directive        = [ qualifier ] mechanism
/// qualifier        = "+" / "-" / "?" / "~"
/// modifier         = redirect / explanation / unknown-modifier
/// redirect         = "redirect" "=" domain-spec
/// explanation      = "exp" "=" domain-spec
/// unknown-modifier = name "=" macro-string
/// name             = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
/// ```
/// Known modifier names are not "greedy" unknown modifiers: `redirect=` with a bad domain-spec is an
/// error, not an unknown modifier (the test suite's reading, §6.1). `redirect` and `exp` may each appear
/// once (§6). Unknown modifiers must have valid macro syntax and are otherwise ignored (§6.3).
public struct SPFRecord: Sendable, Hashable, CustomStringConvertible {
    public var terms: [SPFTerm]

    public init(terms: [SPFTerm]) { self.terms = terms }

    /// A term: a directive or a modifier, in record order.
    public enum SPFTerm: Sendable, Hashable, CustomStringConvertible {
        case directive(SPFDirective)
        case modifier(SPFModifier)

        public var description: String {
            switch self {
            case .directive(let d): return d.description
            case .modifier(let m): return m.description
            }
        }
    }

    public var directives: [SPFDirective] {
        terms.compactMap { if case .directive(let d) = $0 { return d } else { return nil } }
    }

    /// The `redirect=` target, if any.
    public var redirect: SPFDomainSpec? {
        for case .modifier(.redirect(let spec)) in terms { return spec }
        return nil
    }

    /// The `exp=` target, if any.
    public var explanation: SPFDomainSpec? {
        for case .modifier(.explanation(let spec)) in terms { return spec }
        return nil
    }

    /// True if `text` is an SPF record: starts with `v=spf1` (any case) then a space or the end (§4.5).
    public static func isSPFRecord(_ text: [UInt8]) -> Bool {
        let version = Array("v=spf1".utf8)
        guard text.count >= version.count else { return false }
        for (a, b) in zip(text, version) where a | (a >= 0x41 && a <= 0x5A ? 0x20 : 0) != b { return false }
        return text.count == version.count || text[version.count] == 0x20
    }

    /// Parses a whole record. Every term is checked, so an error anywhere is found (§4.6).
    public static func parse(_ text: String) throws(SPFParseError) -> SPFRecord {
        try parse(Array(text.utf8))
    }

    public static func parse(_ bytes: [UInt8]) throws(SPFParseError) -> SPFRecord {
        guard isSPFRecord(bytes) else { throw .notSPFRecord }
        if let bad = bytes.first(where: { !(0x20...0x7E).contains($0) }) { throw .invalidCharacter(bad) }
        let text = String(decoding: bytes, as: UTF8.self)
        var terms: [SPFTerm] = []
        var seenRedirect = false, seenExp = false
        for word in text.split(separator: " ").dropFirst() {
            let term = try parseTerm(word)
            if case .modifier(let modifier) = term {
                switch modifier {
                case .redirect:
                    if seenRedirect { throw .duplicateModifier("redirect") }
                    seenRedirect = true
                case .explanation:
                    if seenExp { throw .duplicateModifier("exp") }
                    seenExp = true
                case .unknown: break
                }
            }
            terms.append(term)
        }
        return SPFRecord(terms: terms)
    }

    static func parseTerm(_ word: Substring) throws(SPFParseError) -> SPFTerm {
        if let equals = SPFModifier.nameEnd(word), word[equals] == "=" {
            return .modifier(try SPFModifier(name: word[..<equals], value: word[word.index(after: equals)...]))
        }
        var rest = word
        var qualifier = SPFQualifier.pass
        if let first = rest.first, let q = SPFQualifier(rawValue: first) {
            qualifier = q
            rest = rest.dropFirst()
        }
        return .directive(SPFDirective(qualifier, try SPFMechanism(parsing: rest)))
    }

    /// The record text: `v=spf1` and the terms, single-spaced. Parsing it gives an equal record.
    public var description: String {
        (["v=spf1"] + terms.map(\.description)).joined(separator: " ")
    }
}

/// A modifier (RFC 7208 §6).
public enum SPFModifier: Sendable, Hashable, CustomStringConvertible {
    case redirect(SPFDomainSpec)
    case explanation(SPFDomainSpec)
    /// Ignored, but its value must be a valid macro-string (§6.3, §12).
    case unknown(name: String, value: SPFMacroString)

    /// The end of a leading `name` (ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )), if the word starts with
    /// one and something follows it.
    static func nameEnd(_ word: Substring) -> Substring.Index? {
        guard let first = word.first, first.isASCII, first.isLetter else { return nil }
        let end = word.firstIndex { !($0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0))) }
        return end
    }

    init(name: Substring, value: Substring) throws(SPFParseError) {
        switch name.lowercased() {
        case "redirect": self = .redirect(try SPFDomainSpec(parsing: value))
        case "exp": self = .explanation(try SPFDomainSpec(parsing: value))
        default: self = .unknown(name: String(name), value: try SPFMacroString(parsing: value))
        }
    }

    public var description: String {
        switch self {
        case .redirect(let spec): return "redirect=\(spec)"
        case .explanation(let spec): return "exp=\(spec)"
        case .unknown(let name, let value): return "\(name)=\(value)"
        }
    }
}
