/// Why an SPF record, or a macro string in it, does not follow RFC 7208 §12. Any of these makes
/// `check_host()` return `permerror` (§4.6: syntax errors anywhere in the record are fatal).
public enum SPFParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text does not start with `v=spf1` followed by a space or the end.
    case notSPFRecord
    /// A byte outside printable US-ASCII and space (§3: records are 7-bit ASCII; §4.6.1: terms are
    /// separated by spaces only).
    case invalidCharacter(UInt8)
    /// A term that is neither a known mechanism nor a well-formed modifier.
    case unknownMechanism(String)
    /// A mechanism that needs `:domain-spec` (include, exists) or `:address` (ip4, ip6) without one, or
    /// with an empty one.
    case missingArgument(String)
    /// Text after a mechanism that its grammar does not allow (`all:x`, `ptr/24`, `include:d/24`, …).
    case unexpectedArgument(String)
    /// A CIDR length that is malformed, has a leading zero, or is over 32 (IPv4) or 128 (IPv6).
    case invalidCIDR(String)
    /// An ip4/ip6 value that is not an address of that family.
    case invalidAddress(String)
    /// A domain-spec that does not end in a macro or in `.toplabel` (§7.1, §12).
    case invalidDomainSpec(String)
    /// A `%` not followed by `{`, `%`, `_` or `-`; an unknown macro letter; a macro letter not allowed
    /// here (c, r, t outside explanation text); a zero transformer; or an unclosed `%{`.
    case invalidMacro(String)
    /// `redirect=` or `exp=` twice (§6).
    case duplicateModifier(String)

    public var description: String {
        switch self {
        case .notSPFRecord: return "not an SPF record (no v=spf1)"
        case .invalidCharacter(let byte): return "invalid character 0x\(String(byte, radix: 16)) in record"
        case .unknownMechanism(let term): return "unknown mechanism \(term)"
        case .missingArgument(let term): return "missing argument in \(term)"
        case .unexpectedArgument(let term): return "unexpected argument in \(term)"
        case .invalidCIDR(let term): return "invalid CIDR length in \(term)"
        case .invalidAddress(let term): return "invalid IP address in \(term)"
        case .invalidDomainSpec(let spec): return "invalid domain-spec \(spec)"
        case .invalidMacro(let text): return "invalid macro in \(text)"
        case .duplicateModifier(let name): return "duplicate \(name)= modifier"
        }
    }
}
