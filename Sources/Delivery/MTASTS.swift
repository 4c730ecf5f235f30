/// SMTP MTA Strict Transport Security (RFC 8461): a domain publishes, over HTTPS, which MX hosts are
/// genuine and whether senders must use verified TLS to reach them.
///
/// ```
/// _mta-sts.example.com.  TXT  "v=STSv1; id=20261130T0900;"          ← §3.1: a policy exists, and its version
/// https://mta-sts.example.com/.well-known/mta-sts.txt                 ← §3.2, §3.3: the policy itself
///     version: STSv1
///     mode: enforce                                                   ← enforce | testing | none
///     mx: mail.example.com
///     mx: *.example.net                                               ← a wildcard matches one leftmost label
///     max_age: 604800                                                 ← seconds a sender may cache it
/// ```
/// These are the pure parts: record and policy parsing, MX matching. Fetching and caching are in
/// `MTASTSPolicyStore`.
public enum MTASTSRecord {
    /// The `id` of a valid `v=STSv1` TXT record (RFC 8461 §3.1), or nil.
    public static func id(in text: String) -> String? {
        let fields = text.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
        guard let first = fields.first, first == "v=STSv1" else { return nil }
        for field in fields.dropFirst() {
            let parts = field.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0] == "id" else { continue }
            let id = String(parts[1])
            // id = 1*32(ALPHA / DIGIT)
            guard (1...32).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
            return id
        }
        return nil
    }
}

public struct MTASTSPolicy: Sendable, Hashable, Codable {
    public enum Mode: String, Sendable, Hashable, Codable {
        case enforce, testing, none
    }

    public var mode: Mode
    /// MX patterns, lower-cased: `mail.example.com` or `*.example.net`.
    public var mx: [String]
    /// Seconds; at most 31557600 (one year, §3.2).
    public var maxAge: Int

    public init(mode: Mode, mx: [String], maxAge: Int) {
        self.mode = mode
        self.mx = mx
        self.maxAge = maxAge
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// RFC 8461 §3.2: `key: value` lines (CRLF or LF); unknown keys are ignored.
    public static func parse(_ text: String) throws -> MTASTSPolicy {
        var version: String?, mode: Mode?, maxAge: Int?
        var mx: [String] = []
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = raw.trimmingCharacters(in: " \t\r")
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: " \t")
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            switch key {
            case "version": version = value
            case "mode": mode = Mode(rawValue: value)
            case "mx": mx.append(value.lowercased())
            case "max_age": maxAge = Int(value)
            default: continue
            }
        }
        guard version == "STSv1" else { throw ParseError(description: "missing or unknown version (want STSv1)") }
        guard let mode else { throw ParseError(description: "missing or unknown mode") }
        guard let maxAge, maxAge >= 0 else { throw ParseError(description: "missing or bad max_age") }
        if mode != .none && mx.isEmpty { throw ParseError(description: "no mx line") }
        return MTASTSPolicy(mode: mode, mx: mx, maxAge: min(maxAge, 31_557_600))
    }

    /// §4.1: a host matches `mx.example.com` exactly, or `*.example.com` by replacing its leftmost label.
    public func matches(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        for pattern in mx {
            if pattern.hasPrefix("*.") {
                guard let dot = name.firstIndex(of: "."), name[..<dot].count > 0 else { continue }
                if name[name.index(after: dot)...] == pattern.dropFirst(2) { return true }
            } else if pattern == name {
                return true
            }
        }
        return false
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
