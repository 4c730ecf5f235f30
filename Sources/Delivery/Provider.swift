import Config

/// A mail provider that hosts many domains behind a few MX hosts (`[delivery.providers.NAME]`, DESIGN.md
/// §3): Gmail serves thousands of domains from `*.google.com`, so limits are kept per provider of the MX
/// host, not per recipient domain. Every MX host that matches one of `mx` counts toward the same limits.
/// The type, the built-in list (gmail, outlook, yahoo) and its overrides are the configuration's
/// (`ApusConfig.Provider`); matching MX hosts is delivery's.
public typealias Provider = ApusConfig.Provider

extension ApusConfig.Provider {
    /// Whether `host` (an MX host name) belongs to this provider: `*.google.com` matches any name ending in
    /// `.google.com`; a name without `*` matches itself. Case does not matter, nor a trailing dot.
    public func matches(_ host: String) -> Bool {
        let name = Self.normalize(host)
        return mx.contains { pattern in
            let p = Self.normalize(pattern)
            if p.hasPrefix("*.") { return name.hasSuffix(String(p.dropFirst(1))) && name.count > p.count - 1 }
            return name == p
        }
    }

    static func normalize(_ name: String) -> String {
        let lower = name.lowercased()
        return lower.hasSuffix(".") ? String(lower.dropLast()) : lower
    }

    /// The first of `providers` that `host` belongs to.
    public static func of(_ host: String, in providers: [Provider]) -> Provider? {
        providers.first { $0.matches(host) }
    }
}
