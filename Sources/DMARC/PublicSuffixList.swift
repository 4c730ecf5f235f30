import DNSCore

/// The Public Suffix List (https://publicsuffix.org/list/): names under which anyone can register a domain
/// (`com`, `co.uk`, `github.io`), and the organizational-domain rule DMARC builds on it (RFC 7489 §3.2).
///
/// The list is a text file of rules, one per line, `//` comments and blank lines ignored:
/// - `co.uk` — a public suffix;
/// - `*.ck` — every name one label under `ck` is a public suffix (the wildcard stands for one label);
/// - `!www.ck` — an exception: `www.ck` is *not* a public suffix even though `*.ck` matches it.
/// The algorithm (publicsuffix.org "Formal Algorithm"): among the rules that match the domain, an exception
/// wins, else the one with the most labels, else the implicit rule `*` (any unlisted TLD is a public
/// suffix). An exception rule's public suffix is the rule without its leftmost label. The registrable
/// domain is the public suffix plus one more label.
///
/// Sections: the file has an ICANN section (TLD registries' own rules) and a PRIVATE section (companies
/// that give out subdomains, such as `github.io` or `blogspot.com`). Apus uses **both** by default, as
/// OpenDMARC and mox do: otherwise `alice.github.io` and `mallory.github.io` would share the
/// organizational domain `github.io` and align with each other under relaxed alignment.
///
/// Names are compared as lowercase A-labels: rules and domains written with U-labels (`公司.cn`) are
/// converted with IDNA, so `食狮.公司.cn` and `xn--85x722f.xn--55qx5d.cn` give the same answer.
public struct PublicSuffixList: Sendable {
    /// Which sections of the file to use.
    public enum Sections: Sendable, Hashable {
        case icannOnly, icannAndPrivate
    }

    /// Plain rules, as lowercase A-label names (`co.uk`).
    var rules: Set<String> = []
    /// Wildcard rules, stored without their `*.` (`ck` for `*.ck`).
    var wildcards: Set<String> = []
    /// Exception rules, stored without their `!` (`www.ck`).
    var exceptions: Set<String> = []

    /// The list shipped with Apus, both sections, parsed once on first use. Its rules are compiled in
    /// (`PublicSuffixList+ICANN.swift`, `+Private.swift`); `public_suffix_list.dat` beside them is the list as
    /// published, from which `scripts/update-psl` makes them.
    public static let bundled = PublicSuffixList(icannRules: icannRules, privateRules: privateRules)

    /// Parses a list in the publicsuffix.org format. Lines that are not valid names are skipped.
    public init(parsing text: String, sections: Sections = .icannAndPrivate) {
        var inPrivate = false
        for rawLine in text.split(whereSeparator: \.isNewline) {
            if rawLine.hasPrefix("//") {
                if rawLine.contains("===BEGIN PRIVATE DOMAINS===") { inPrivate = true }
                if rawLine.contains("===END PRIVATE DOMAINS===") { inPrivate = false }
                continue
            }
            let rule = rawLine.prefix { $0 != " " && $0 != "\t" }
            if rule.isEmpty || (inPrivate && sections == .icannOnly) { continue }
            add(rule)
        }
    }

    /// The rules of each section as whitespace-separated lists, without comments (the generated form).
    init(icannRules: String, privateRules: String, sections: Sections = .icannAndPrivate) {
        for rule in icannRules.split(whereSeparator: \.isWhitespace) { add(rule) }
        guard sections == .icannAndPrivate else { return }
        for rule in privateRules.split(whereSeparator: \.isWhitespace) { add(rule) }
    }

    /// One rule: `!exception`, `*.wildcard` or a plain name; skipped when it is not a valid name.
    private mutating func add(_ rule: Substring) {
        if rule.hasPrefix("!") {
            if let name = Self.normalized(String(rule.dropFirst())) { exceptions.insert(name.joined(separator: ".")) }
        } else if rule.hasPrefix("*.") {
            if let name = Self.normalized(String(rule.dropFirst(2))) { wildcards.insert(name.joined(separator: ".")) }
        } else if let name = Self.normalized(String(rule)) {
            rules.insert(name.joined(separator: "."))
        }
    }

    /// A domain as lowercase A-labels, or nil when it is not a valid domain name: empty, the root, an empty
    /// label (`.com`, `a..b`), a label over 63 octets, a name over 255, a U-label that is not valid IDNA, or
    /// a label with anything but letters, digits, `-` and `_` once in A-label form (mail domains are host
    /// names, RFC 5321 §4.1.2; `_` is allowed for names such as `_dmarc`). One final dot is allowed.
    public static func normalized(_ domain: String) -> [String]? {
        guard let name = try? DNSName(domain), !name.labels.isEmpty else { return nil }
        var labels: [String] = []
        for label in name.labels {
            guard label.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }) else { return nil }
            labels.append(String(decoding: label.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self))
        }
        return labels
    }

    /// How many trailing labels of `labels` form the public suffix.
    func publicSuffixLength(_ labels: [String]) -> Int {
        var longest = 1   // the implicit "*" rule
        for count in 1...labels.count {
            let suffix = labels.suffix(count).joined(separator: ".")
            if exceptions.contains(suffix) { return count - 1 }   // an exception prevails over every other rule
            if rules.contains(suffix) { longest = count }
            if count >= 2, wildcards.contains(labels.suffix(count - 1).joined(separator: ".")) { longest = count }
        }
        return longest
    }

    /// The public suffix of `domain` (`co.uk` for `www.example.co.uk`), or nil for an invalid name.
    public func publicSuffix(of domain: String) -> String? {
        guard let labels = Self.normalized(domain) else { return nil }
        return labels.suffix(publicSuffixLength(labels)).joined(separator: ".")
    }

    /// Whether `domain` is itself a public suffix (false for an invalid name).
    public func isPublicSuffix(_ domain: String) -> Bool {
        guard let labels = Self.normalized(domain) else { return false }
        return publicSuffixLength(labels) >= labels.count
    }

    /// The registrable domain: the public suffix plus one label (`example.co.uk`); nil when `domain` is
    /// a public suffix itself or not a valid name.
    public func registrableDomain(of domain: String) -> String? {
        guard let labels = Self.normalized(domain) else { return nil }
        let length = publicSuffixLength(labels)
        guard labels.count > length else { return nil }
        return labels.suffix(length + 1).joined(separator: ".")
    }

    /// RFC 7489 §3.2 organizational domain: the registrable domain, or the domain itself (normalized) when
    /// it is a public suffix (it then aligns only with itself); nil for an invalid name.
    public func organizationalDomain(of domain: String) -> String? {
        guard let labels = Self.normalized(domain) else { return nil }
        let length = publicSuffixLength(labels)
        return labels.suffix(min(length + 1, labels.count)).joined(separator: ".")
    }
}
