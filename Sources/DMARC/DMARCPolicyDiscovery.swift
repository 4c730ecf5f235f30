import DNSCore

/// The outcome of DMARC policy discovery (RFC 7489 §6.6.3).
public enum DMARCDiscoveryResult: Sendable, Hashable {
    /// One DMARC record found at `_dmarc.<policyDomain>`; `policyDomain` is the From domain or, after the
    /// fallback, its organizational domain.
    case found(DMARCRecord, policyDomain: String)
    /// No policy: no record at either name, or more than one at the same name (§6.6.3 step 5). `domain` is
    /// the last name queried (without `_dmarc.`).
    case none(domain: String)
    /// A DNS lookup failed temporarily (SERVFAIL, REFUSED, timeout, unreadable reply): try again later.
    case temperror(domain: String, DNSFailure)
    /// A record starts with `v=DMARC1` but does not parse, or the From domain is not a valid name.
    case permerror(domain: String, DMARCPermanentError)

    /// The domain the result is about (`policyDomain` when found).
    public var domain: String {
        switch self {
        case .found(_, let domain), .none(let domain), .temperror(let domain, _), .permerror(let domain, _):
            return domain
        }
    }
}

/// Why discovery gave `permerror`.
public enum DMARCPermanentError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformedRecord(DMARCRecordError)
    case invalidFromDomain(String)

    public var description: String {
        switch self {
        case .malformedRecord(let error): return "malformed DMARC record: \(error)"
        case .invalidFromDomain(let domain): return "invalid From domain \"\(domain)\""
        }
    }
}

/// RFC 7489 §6.6.3 policy discovery:
/// 1. TXT at `_dmarc.<from-domain>`; keep only records starting with `v=DMARC1`.
/// 2. None kept (including NXDOMAIN and no-data) → TXT at `_dmarc.<organizational-domain>`, if that is a
///    different name, and keep only DMARC records again.
/// 3. Exactly one record → parse it (a parse error is `permerror`); zero or several → `none`.
/// A temporary DNS failure at either step is `temperror`, never folded into "no record": a receiver that
/// treats SERVFAIL as "no policy" lets forged mail through whenever the sender's DNS is flaky.
public struct DMARCPolicyDiscovery: Sendable {
    public var publicSuffixList: PublicSuffixList

    public init(publicSuffixList: PublicSuffixList = .bundled) {
        self.publicSuffixList = publicSuffixList
    }

    public func discover(fromDomain: String, resolver: some DNSResolving) async -> DMARCDiscoveryResult {
        guard let labels = PublicSuffixList.normalized(fromDomain),
              let organizational = publicSuffixList.organizationalDomain(of: fromDomain) else {
            return .permerror(domain: fromDomain, .invalidFromDomain(fromDomain))
        }
        let from = labels.joined(separator: ".")
        switch await lookup(at: from, resolver: resolver) {
        case .records(let records): return Self.select(records, domain: from)
        case .failure(let failure): return .temperror(domain: from, failure)
        case .nothing: break
        }
        guard organizational != from else { return .none(domain: from) }
        switch await lookup(at: organizational, resolver: resolver) {
        case .records(let records): return Self.select(records, domain: organizational)
        case .failure(let failure): return .temperror(domain: organizational, failure)
        case .nothing: return .none(domain: organizational)
        }
    }

    enum Lookup { case records([String]), nothing, failure(DNSFailure) }

    /// The DMARC records (those starting with `v=DMARC1`) at `_dmarc.<domain>`.
    func lookup(at domain: String, resolver: some DNSResolving) async -> Lookup {
        let name = "_dmarc." + domain
        // A From domain near the 255-octet limit has no valid `_dmarc` name: there can be no record there.
        guard (try? DNSName(name)) != nil else { return .nothing }
        switch await resolver.txt(name) {
        case .success(let texts):
            let records = texts.filter(DMARCRecord.isDMARCRecord)
            return records.isEmpty ? .nothing : .records(records)
        case .failure(let failure):
            return failure.isTemporary ? .failure(failure) : .nothing
        }
    }

    static func select(_ records: [String], domain: String) -> DMARCDiscoveryResult {
        guard records.count == 1 else { return .none(domain: domain) }
        do {
            return .found(try DMARCRecord(parsing: records[0]), policyDomain: domain)
        } catch {
            return .permerror(domain: domain, .malformedRecord(error))
        }
    }
}
