import DNSCore

/// Whether a third party accepts DMARC reports for a domain (RFC 7489 §7.1).
public enum DMARCExternalReportAuthorization: Sendable, Hashable {
    /// A `v=DMARC1` record exists at `<domain>._report._dmarc.<destination>`.
    case accepted
    /// No such record (or only non-DMARC TXT records): do not send reports there.
    case notAccepted
    /// The lookup failed temporarily; try again later.
    case temperror(DNSFailure)
    /// Only malformed DMARC records exist there.
    case permerror(DMARCRecordError)

    public var accepts: Bool { self == .accepted }
}

extension DMARCPolicyDiscovery {
    /// RFC 7489 §7.1: a report URI whose host is in another organizational domain than `domain` may only be
    /// used if that destination publishes TXT `<domain>._report._dmarc.<destination-domain>` starting with
    /// `v=DMARC1` (no `p` needed). Accepted when at least one such record parses.
    public func externalReportAuthorization(forDomain domain: String, destination: String,
                                            resolver: some DNSResolving) async -> DMARCExternalReportAuthorization {
        guard let from = PublicSuffixList.normalized(domain), let to = PublicSuffixList.normalized(destination) else {
            return .notAccepted
        }
        let name = (from + ["_report", "_dmarc"] + to).joined(separator: ".")
        guard (try? DNSName(name)) != nil else { return .notAccepted }
        switch await resolver.txt(name) {
        case .failure(let failure):
            return failure.isTemporary ? .temperror(failure) : .notAccepted
        case .success(let texts):
            var firstError: DMARCRecordError?
            for text in texts where DMARCRecord.isDMARCRecord(text) {
                do {
                    _ = try DMARCRecord(parsing: text, requirePolicy: false)
                    return .accepted
                } catch {
                    firstError = firstError ?? error
                }
            }
            return firstError.map { .permerror($0) } ?? .notAccepted
        }
    }
}
