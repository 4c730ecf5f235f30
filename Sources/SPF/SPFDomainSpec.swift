/// A domain-spec (RFC 7208 §7.1, §12): a macro-string that must end in a macro or in `.toplabel`.
///
/// ```
/// domain-spec      = macro-string domain-end
/// domain-end       = ( "." toplabel [ "." ] ) / macro-expand
/// toplabel         = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
/// ```
/// So `a:museum`, `a:111.222.33.44` and `a:example.-com` are syntax errors, while `a:%{d}`, `a:foo:bar/baz.example.com`
/// and `a:example.xn--zckzah` are fine. Only `s l o d i p v h` macros are allowed (§7.1).
public struct SPFDomainSpec: Sendable, Hashable, CustomStringConvertible {
    public var macroString: SPFMacroString

    public init(parsing text: Substring) throws(SPFParseError) {
        guard !text.isEmpty else { throw .invalidDomainSpec(String(text)) }
        let parsed = try SPFMacroString(parsing: text, letters: SPFMacroString.domainLetters)
        guard Self.hasValidEnd(parsed) else { throw .invalidDomainSpec(String(text)) }
        macroString = parsed
    }

    static func hasValidEnd(_ string: SPFMacroString) -> Bool {
        guard let last = string.tokens.last else { return false }
        guard case .literal(var text) = last else { return true }  // ends in a macro-expand
        if text.hasSuffix(".") { text.removeLast() }
        guard let dot = text.lastIndex(of: ".") else { return false }
        return isTopLabel(text[text.index(after: dot)...])
    }

    static func isTopLabel(_ label: Substring) -> Bool {
        let bytes = Array(label.utf8)
        func alnum(_ b: UInt8) -> Bool { alpha(b) || (0x30...0x39).contains(b) }
        func alpha(_ b: UInt8) -> Bool { (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
        guard let first = bytes.first, let last = bytes.last,
              bytes.allSatisfy({ alnum($0) || $0 == UInt8(ascii: "-") }) else { return false }
        if bytes.contains(UInt8(ascii: "-")) { return alnum(first) && alnum(last) }
        return bytes.contains(where: alpha)
    }

    public var description: String { macroString.description }
}
