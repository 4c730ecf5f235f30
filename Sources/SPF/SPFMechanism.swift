import DNSCore

/// A directive's qualifier (RFC 7208 §4.6.2); `+` when absent.
public enum SPFQualifier: Character, Sendable, Hashable {
    case pass = "+", fail = "-", softfail = "~", neutral = "?"

    /// The check_host result of a matching directive.
    public var result: SPFResult {
        switch self {
        case .pass: return .pass
        case .fail: return .fail
        case .softfail: return .softfail
        case .neutral: return .neutral
        }
    }
}

/// The two CIDR lengths of `a` and `mx` (RFC 7208 §5.6); nil means the default (/32, /128).
public struct SPFDualCIDR: Sendable, Hashable, CustomStringConvertible {
    public var ipv4: Int?
    public var ipv6: Int?
    public init(ipv4: Int? = nil, ipv6: Int? = nil) { self.ipv4 = ipv4; self.ipv6 = ipv6 }
    public var description: String { (ipv4.map { "/\($0)" } ?? "") + (ipv6.map { "//\($0)" } ?? "") }
}

/// A mechanism (RFC 7208 §5).
///
/// ```
/// mechanism        = ( all / include / a / mx / ptr / ip4 / ip6 / exists )
/// all              = "all"
/// include          = "include"  ":" domain-spec
/// a                = "a"      [ ":" domain-spec ] [ dual-cidr-length ]
/// mx               = "mx"     [ ":" domain-spec ] [ dual-cidr-length ]
/// ptr              = "ptr"    [ ":" domain-spec ]
/// ip4              = "ip4"      ":" ip4-network   [ ip4-cidr-length ]
/// ip6              = "ip6"      ":" ip6-network   [ ip6-cidr-length ]
/// exists           = "exists"   ":" domain-spec
/// dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]
/// ip4-cidr-length  = "/" ("0" / %x31-39 0*1DIGIT) ; value range 0-32
/// ip6-cidr-length  = "/" ("0" / %x31-39 0*2DIGIT) ; value range 0-128
/// ```
public enum SPFMechanism: Sendable, Hashable, CustomStringConvertible {
    case all
    case include(SPFDomainSpec)
    case a(SPFDomainSpec?, SPFDualCIDR)
    case mx(SPFDomainSpec?, SPFDualCIDR)
    case ptr(SPFDomainSpec?)
    case ip4(IPAddress, prefix: Int?)
    case ip6(IPAddress, prefix: Int?)
    case exists(SPFDomainSpec)

    /// True for the terms that count against the 10-lookup limit (§4.6.4).
    public var causesDNSLookup: Bool {
        switch self {
        case .all, .ip4, .ip6: return false
        case .include, .a, .mx, .ptr, .exists: return true
        }
    }

    /// Parses a mechanism (without its qualifier).
    public init(parsing term: Substring) throws(SPFParseError) {
        let nameEnd = term.firstIndex { !($0.isASCII && ($0.isLetter || $0.isNumber)) } ?? term.endIndex
        let name = term[..<nameEnd].lowercased()
        let rest = term[nameEnd...]
        let whole = String(term)
        func argument() throws(SPFParseError) -> Substring {
            guard rest.first == ":", rest.count > 1 else {
                throw rest.isEmpty || rest == ":" ? .missingArgument(whole) : .unexpectedArgument(whole)
            }
            return rest.dropFirst()
        }
        switch name {
        case "all":
            guard rest.isEmpty else { throw .unexpectedArgument(whole) }
            self = .all
        case "include":
            self = .include(try SPFDomainSpec(parsing: try argument()))
        case "exists":
            self = .exists(try SPFDomainSpec(parsing: try argument()))
        case "ptr":
            if rest.isEmpty { self = .ptr(nil); return }
            self = .ptr(try SPFDomainSpec(parsing: try argument()))
        case "a", "mx":
            let (body, cidr) = try Self.splitDualCIDR(rest, term: whole)
            var spec: SPFDomainSpec?
            if !body.isEmpty {
                guard body.first == ":" else { throw .unexpectedArgument(whole) }
                guard body.count > 1 else { throw .missingArgument(whole) }
                spec = try SPFDomainSpec(parsing: body.dropFirst())
            }
            self = name == "a" ? .a(spec, cidr) : .mx(spec, cidr)
        case "ip4", "ip6":
            let value = try argument()
            let slash = value.firstIndex(of: "/") ?? value.endIndex
            let v4 = name == "ip4"
            guard let ip = IPAddress(String(value[..<slash])), ip.isIPv4 == v4,
                  v4 || value[..<slash].contains(":") else { throw .invalidAddress(whole) }
            var prefix: Int?
            if slash < value.endIndex {
                prefix = try Self.cidrLength(value[value.index(after: slash)...], max: v4 ? 32 : 128, term: whole)
            }
            self = v4 ? .ip4(ip, prefix: prefix) : .ip6(ip, prefix: prefix)
        default:
            throw .unknownMechanism(whole)
        }
    }

    /// Splits a trailing `[ "/" ip4-len ] [ "//" ip6-len ]` off `text`. A trailing `/digits` that is not a
    /// valid length is an error (`a/33`, `ip4:…/032`), not part of the domain-spec.
    static func splitDualCIDR(_ text: Substring, term: String) throws(SPFParseError) -> (Substring, SPFDualCIDR) {
        var body = text
        var cidr = SPFDualCIDR()
        func trailingDigits(_ s: Substring) -> Substring.Index? {
            var i = s.endIndex
            while i > s.startIndex, s[s.index(before: i)].isASCII, s[s.index(before: i)].isNumber {
                i = s.index(before: i)
            }
            guard i < s.endIndex, i > s.startIndex, s[s.index(before: i)] == "/" else { return nil }
            return i
        }
        if let start = trailingDigits(body) {
            let slash = body.index(before: start)
            if slash > body.startIndex, body[body.index(before: slash)] == "/" {
                cidr.ipv6 = try cidrLength(body[start...], max: 128, term: term)
                body = body[..<body.index(before: slash)]
            }
        }
        if let start = trailingDigits(body) {
            let slash = body.index(before: start)
            if !(slash > body.startIndex && body[body.index(before: slash)] == "/") {
                cidr.ipv4 = try cidrLength(body[start...], max: 32, term: term)
                body = body[..<slash]
            }
        }
        return (body, cidr)
    }

    static func cidrLength(_ digits: Substring, max: Int, term: String) throws(SPFParseError) -> Int {
        guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              !(digits.count > 1 && digits.hasPrefix("0")), let value = Int(digits), value <= max else {
            throw .invalidCIDR(term)
        }
        return value
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case .include(let spec): return "include:\(spec)"
        case .exists(let spec): return "exists:\(spec)"
        case .ptr(let spec): return "ptr" + (spec.map { ":\($0)" } ?? "")
        case .a(let spec, let cidr): return "a" + (spec.map { ":\($0)" } ?? "") + cidr.description
        case .mx(let spec, let cidr): return "mx" + (spec.map { ":\($0)" } ?? "") + cidr.description
        case .ip4(let ip, let prefix): return "ip4:\(ip)" + (prefix.map { "/\($0)" } ?? "")
        case .ip6(let ip, let prefix): return "ip6:\(ip)" + (prefix.map { "/\($0)" } ?? "")
        }
    }
}

/// `[qualifier] mechanism`.
public struct SPFDirective: Sendable, Hashable, CustomStringConvertible {
    public var qualifier: SPFQualifier
    public var mechanism: SPFMechanism
    public init(_ qualifier: SPFQualifier = .pass, _ mechanism: SPFMechanism) {
        self.qualifier = qualifier; self.mechanism = mechanism
    }
    public var description: String { (qualifier == .pass ? "" : String(qualifier.rawValue)) + mechanism.description }
}
