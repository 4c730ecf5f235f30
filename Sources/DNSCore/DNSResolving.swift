/// The seam every DNS consumer depends on (STYLE.md habit 7): `DNSResolver` is the real implementation,
/// `StaticResolver` the fake.
///
/// A lookup never throws: every outcome a mail server must act on differently is a case of
/// `DNSLookupResult`. NXDOMAIN is permanent ("no such domain", bounce); `noData` means the name exists but
/// has no record of that type (e.g. no MX: fall back to A/AAAA, RFC 5321 §5.1); SERVFAIL, REFUSED and
/// timeout are temporary (retry later, SPF `temperror`).
public protocol DNSResolving: Sendable {
    /// Looks up `name` (text form; U-labels are converted to A-labels) for records of `type`.
    /// CNAMEs are followed (bounded) unless `type` is `.cname`.
    func lookup(_ name: String, _ type: DNSRecordType) async -> DNSLookupResult
}

/// The outcome of one lookup.
public enum DNSLookupResult: Sendable, Hashable {
    /// At least one record of the asked type, after CNAME chasing.
    case answer(DNSAnswer)
    /// RCODE 3: the name does not exist (RFC 1035 §4.1.1, RFC 8020).
    case nxdomain
    /// NOERROR with no record of the asked type (RFC 2308 §2.2).
    case noData
    /// RCODE 2 from every server tried.
    case serverFailure
    /// RCODE 5 from every server tried.
    case refused
    /// No usable reply within the configured timeout and attempts.
    case timeout
    /// The name could not be encoded, or no reply could be decoded; the text says why.
    case malformed(String)

    /// The answer, if any.
    public var answer: DNSAnswer? {
        if case .answer(let answer) = self { return answer }
        return nil
    }

    /// The failure, or nil for an answer.
    public var failure: DNSFailure? {
        switch self {
        case .answer: return nil
        case .nxdomain: return .nxdomain
        case .noData: return .noData
        case .serverFailure: return .serverFailure
        case .refused: return .refused
        case .timeout: return .timeout
        case .malformed(let why): return .malformed(why)
        }
    }

    /// `.answer` with its records mapped, or the failure.
    public func map<T>(_ transform: (DNSAnswer) -> T) -> Result<T, DNSFailure> {
        switch self {
        case .answer(let answer): return .success(transform(answer))
        default: return .failure(failure!)
        }
    }
}

/// Every way a lookup can fail, as an `Error` so the convenience helpers can return `Result`.
public enum DNSFailure: Error, Sendable, Hashable, CustomStringConvertible {
    case nxdomain, noData, serverFailure, refused, timeout
    case malformed(String)

    /// True for failures that may go away on a retry (SERVFAIL, REFUSED, timeout, malformed reply).
    /// NXDOMAIN and no-data are authoritative answers, not temporary errors.
    public var isTemporary: Bool {
        switch self {
        case .nxdomain, .noData: return false
        case .serverFailure, .refused, .timeout, .malformed: return true
        }
    }

    public var description: String {
        switch self {
        case .nxdomain: return "NXDOMAIN"
        case .noData: return "NODATA"
        case .serverFailure: return "SERVFAIL"
        case .refused: return "REFUSED"
        case .timeout: return "timeout"
        case .malformed(let why): return "malformed: \(why)"
        }
    }
}

/// A positive answer.
public struct DNSAnswer: Sendable, Hashable {
    /// The name that was asked for.
    public var name: DNSName
    /// The owner name of `records`: `name` itself, or the end of its CNAME chain.
    public var canonicalName: DNSName
    /// The records of the asked type, owned by `canonicalName`, in the order the server sent them.
    public var records: [DNSResourceRecord]
    /// The CNAME records followed from `name` to `canonicalName`, in order.
    public var cnameChain: [DNSResourceRecord]
    /// Seconds this answer may be kept: the smallest TTL of `records` and `cnameChain` (less time already
    /// spent in a cache).
    public var ttl: UInt32
    /// The AD bit of the reply (RFC 4035 §3.2.3): the server says it validated the data with DNSSEC.
    /// Only meaningful when the path to a validating server is trusted (RFC 6698 §4 for DANE).
    public var authenticatedData: Bool

    public init(name: DNSName, canonicalName: DNSName? = nil, records: [DNSResourceRecord],
                cnameChain: [DNSResourceRecord] = [], ttl: UInt32? = nil, authenticatedData: Bool = false) {
        self.name = name
        self.canonicalName = canonicalName ?? name
        self.records = records
        self.cnameChain = cnameChain
        self.ttl = ttl ?? (records + cnameChain).map(\.ttl).min() ?? 0
        self.authenticatedData = authenticatedData
    }

    /// The record data alone.
    public var data: [DNSRecordData] { records.map(\.data) }
}
