/// A parsed DMARC policy record (RFC 7489 §6.3), with every tag's effective value after defaults.
///
/// ```
/// v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=r; pct=50; rua=mailto:agg@example.com!10m;
/// ruf=mailto:fail@example.com; fo=0:d; rf=afrf; ri=3600
/// ```
/// `description` re-serialises the record: parsing it gives back an equal record (with `impliedPolicy`
/// false), which the fuzz target checks.
public struct DMARCRecord: Sendable, Hashable, CustomStringConvertible {
    /// `p`: what the domain owner asks for mail from the domain itself that fails DMARC.
    public var policy: DMARCPolicy
    /// `sp`: the policy for subdomains of the domain that holds the record; nil means "as `p`".
    public var subdomainPolicy: DMARCPolicy?
    /// `adkim`: DKIM identifier alignment (default relaxed).
    public var dkimAlignment: DMARCAlignmentMode = .relaxed
    /// `aspf`: SPF identifier alignment (default relaxed).
    public var spfAlignment: DMARCAlignmentMode = .relaxed
    /// `pct`: percentage (0–100) of failing messages the policy applies to (default 100).
    public var percent: Int = 100
    /// `rua`: where aggregate reports go.
    public var aggregateReportURIs: [DMARCReportURI] = []
    /// `ruf`: where failure reports go.
    public var failureReportURIs: [DMARCReportURI] = []
    /// `fo`: when to send failure reports (default `0`).
    public var failureReportingOptions: [DMARCFailureOption] = [.allFail]
    /// `rf`: failure report formats, lowercased (default `afrf`).
    public var reportFormats: [String] = ["afrf"]
    /// `ri`: requested aggregate report interval in seconds (default 86400).
    public var reportInterval: UInt32 = DMARCLimits.defaultReportInterval
    /// True when `p` was missing or `p`/`sp` invalid and, because `rua` held a valid URI, the record is
    /// read as `p=none` (RFC 7489 §6.6.3 step 6).
    public var impliedPolicy = false

    public init(policy: DMARCPolicy, subdomainPolicy: DMARCPolicy? = nil) {
        self.policy = policy
        self.subdomainPolicy = subdomainPolicy
    }

    /// The record in `tag=value` form, `v` and `p` first, then only the tags that differ from their default.
    public var description: String {
        var tags = ["v=DMARC1", "p=\(policy.rawValue)"]
        if let subdomainPolicy { tags.append("sp=\(subdomainPolicy.rawValue)") }
        if dkimAlignment != .relaxed { tags.append("adkim=\(dkimAlignment.rawValue)") }
        if spfAlignment != .relaxed { tags.append("aspf=\(spfAlignment.rawValue)") }
        if percent != 100 { tags.append("pct=\(percent)") }
        if !aggregateReportURIs.isEmpty { tags.append("rua=" + aggregateReportURIs.map(\.description).joined(separator: ",")) }
        if !failureReportURIs.isEmpty { tags.append("ruf=" + failureReportURIs.map(\.description).joined(separator: ",")) }
        if failureReportingOptions != [.allFail] {
            tags.append("fo=" + failureReportingOptions.map(\.rawValue).joined(separator: ":"))
        }
        if reportFormats != ["afrf"] { tags.append("rf=" + reportFormats.joined(separator: ":")) }
        if reportInterval != DMARCLimits.defaultReportInterval { tags.append("ri=\(reportInterval)") }
        return tags.joined(separator: "; ")
    }
}

/// `p` and `sp` values (RFC 7489 §6.3), from least to most severe.
public enum DMARCPolicy: String, Sendable, Hashable, CaseIterable, Comparable {
    case none, quarantine, reject

    /// The next less strict policy, applied to failing messages that `pct` leaves out (RFC 7489 §6.6.4).
    public var downgraded: DMARCPolicy {
        switch self {
        case .reject: return .quarantine
        case .quarantine, .none: return .none
        }
    }

    public static func < (a: DMARCPolicy, b: DMARCPolicy) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// `adkim` / `aspf` (RFC 7489 §3.1).
public enum DMARCAlignmentMode: String, Sendable, Hashable, CaseIterable {
    /// Same organizational domain.
    case relaxed = "r"
    /// Exactly the same domain name.
    case strict = "s"
}

/// `fo` values (RFC 7489 §6.3).
public enum DMARCFailureOption: String, Sendable, Hashable, CaseIterable {
    /// `0`: report when every mechanism failed to give an aligned pass.
    case allFail = "0"
    /// `1`: report when any mechanism failed to give an aligned pass.
    case anyFail = "1"
    /// `d`: report any DKIM signature that failed, aligned or not.
    case dkimFail = "d"
    /// `s`: report any SPF failure, aligned or not.
    case spfFail = "s"
}

/// One `rua`/`ruf` destination (RFC 7489 §6.4 `dmarc-uri`): a URI and an optional size limit such as `!10m`.
public struct DMARCReportURI: Sendable, Hashable, CustomStringConvertible {
    /// The URI, its scheme lowercased (`mailto:dmarc@example.com`).
    public var uri: String
    /// The size limit's number, if any.
    public var maxSize: UInt64?
    /// The size limit's unit; nil with a `maxSize` means bytes.
    public var sizeUnit: SizeUnit?

    public enum SizeUnit: String, Sendable, Hashable, CaseIterable {
        case kilobytes = "k", megabytes = "m", gigabytes = "g", terabytes = "t"
    }

    public init(uri: String, maxSize: UInt64? = nil, sizeUnit: SizeUnit? = nil) {
        self.uri = uri
        self.maxSize = maxSize
        self.sizeUnit = sizeUnit
    }

    /// The URI's scheme, lowercased (`mailto`).
    public var scheme: String { String(uri.prefix { $0 != ":" }) }

    public var description: String {
        guard let maxSize else { return uri }
        return "\(uri)!\(maxSize)\(sizeUnit?.rawValue ?? "")"
    }
}
