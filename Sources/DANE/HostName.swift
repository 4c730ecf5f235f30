/// Certificate name matching for DANE-TA (RFC 7672 §3.2.3, RFC 6125 §6.4): case-insensitive, trailing dot
/// ignored, a wildcard only as the whole left-most label, standing for exactly one label.
enum HostName {
    static func matches(pattern: String, _ name: String) -> Bool {
        let p = normalize(pattern), n = normalize(name)
        guard !p.isEmpty, !n.isEmpty else { return false }
        if p == n { return true }
        guard p.hasPrefix("*.") else { return false }
        let suffix = p.dropFirst(1)   // ".example.net"
        guard n.hasSuffix(suffix) else { return false }
        let label = n.dropLast(suffix.count)
        return !label.isEmpty && !label.contains(".")
    }

    static func normalize(_ name: String) -> String {
        var lower = name.lowercased()
        if lower.hasSuffix(".") { lower.removeLast() }
        return lower
    }
}
