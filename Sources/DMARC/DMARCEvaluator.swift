import DNSCore

/// An SPF or DKIM result as DMARC sees it: the RFC 8601 §2.7 result words of both methods. Callers map their
/// own result types by `rawValue` (`DMARCAuthStatus(rawValue: spf.result.rawValue)`).
public enum DMARCAuthStatus: String, Sendable, Hashable, CaseIterable {
    case pass, fail, softfail, neutral, none, policy, temperror, permerror
}

/// The SPF check's result and the domain it was for: the MAIL FROM domain, or the HELO domain when MAIL
/// FROM was empty (RFC 7489 §4.1, RFC 7208 §2.4).
public struct DMARCSPFInput: Sendable, Hashable {
    public var result: DMARCAuthStatus
    public var domain: String
    public init(result: DMARCAuthStatus, domain: String) { self.result = result; self.domain = domain }
}

/// One DKIM signature's result and its `d=`.
public struct DMARCDKIMInput: Sendable, Hashable {
    public var result: DMARCAuthStatus
    public var domain: String
    public init(result: DMARCAuthStatus, domain: String) { self.result = result; self.domain = domain }
}

/// The DMARC verdict for one message.
public struct DMARCResult: Sendable, Hashable {
    /// RFC 7489 §11.2 result words for Authentication-Results.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case pass, fail, none, temperror, permerror
    }

    public var status: Status
    /// The From domain, normalized (lowercase A-labels) when valid.
    public var fromDomain: String
    /// Where discovery ended: the domain whose `_dmarc` record was used (or last queried).
    public var policyDomain: String
    /// The record used, when one was found.
    public var record: DMARCRecord?
    /// SPF passed for a domain aligned with the From domain.
    public var alignedSPFPass = false
    /// Some DKIM signature passed with a `d=` aligned with the From domain; `alignedDKIMDomain` is the first.
    public var alignedDKIMPass: Bool { alignedDKIMDomain != nil }
    public var alignedDKIMDomain: String?
    /// The policy the domain owner asks for this message: `sp` when the From domain is a subdomain of the
    /// policy domain and the record has `sp`, else `p` (RFC 7489 §6.3). Nil without a record.
    public var requestedPolicy: DMARCPolicy?
    /// True when the message failed and the `pct` draw left it out of the policy (RFC 7489 §6.6.4).
    public var sampledOut = false
    /// What the owner's policy says to do with this message: `requestedPolicy` for a failure (one step
    /// milder when sampled out), `none` for every other status. The server's own configuration may still
    /// choose to do less (e.g. only add a header).
    public var disposition: DMARCPolicy = .none
    /// Why a temperror or permerror happened, for logs and the A-R comment.
    public var reason: String?

    /// Whether a DMARC policy applies to this message at all: a record was found and `pct` did not leave the
    /// message out.
    public var policyApplies: Bool { record != nil && !sampledOut }
}

/// DMARC evaluation (RFC 7489 §6.6.2–§6.6.4): policy discovery, identifier alignment, the policy to apply.
///
/// ```swift
/// let result = await DMARCEvaluator().evaluate(
///     fromDomain: "example.com",
///     spf: DMARCSPFInput(result: .pass, domain: "bounces.example.com"),
///     dkim: [DMARCDKIMInput(result: .pass, domain: "example.com")],
///     resolver: dns, pctDraw: Int.random(in: 0..<100))
/// result.status                        // .pass
/// result.authenticationResult()        // "dmarc=pass (p=reject dis=none) header.from=example.com"
/// ```
public struct DMARCEvaluator: Sendable {
    public var discovery: DMARCPolicyDiscovery
    public var alignment: DMARCAlignment

    public init(publicSuffixList: PublicSuffixList = .bundled) {
        discovery = DMARCPolicyDiscovery(publicSuffixList: publicSuffixList)
        alignment = DMARCAlignment(publicSuffixList: publicSuffixList)
    }

    /// Discovers the policy of `fromDomain` through `resolver`, then evaluates. `pctDraw` is a number in
    /// 0..<100, uniformly random in production: a failing message is subject to the policy when
    /// `pctDraw < pct`.
    public func evaluate(fromDomain: String, spf: DMARCSPFInput?, dkim: [DMARCDKIMInput],
                         resolver: some DNSResolving, pctDraw: Int) async -> DMARCResult {
        let discovered = await discovery.discover(fromDomain: fromDomain, resolver: resolver)
        return evaluate(fromDomain: fromDomain, spf: spf, dkim: dkim, discovered: discovered, pctDraw: pctDraw)
    }

    /// The same with a random `pct` draw from `generator`.
    public func evaluate(fromDomain: String, spf: DMARCSPFInput?, dkim: [DMARCDKIMInput],
                         resolver: some DNSResolving, using generator: inout some RandomNumberGenerator) async -> DMARCResult {
        let draw = Int.random(in: 0..<100, using: &generator)
        return await evaluate(fromDomain: fromDomain, spf: spf, dkim: dkim, resolver: resolver, pctDraw: draw)
    }

    /// Evaluates against an already discovered policy (pure and synchronous).
    public func evaluate(fromDomain: String, spf: DMARCSPFInput?, dkim: [DMARCDKIMInput],
                         discovered: DMARCDiscoveryResult, pctDraw: Int) -> DMARCResult {
        let from = PublicSuffixList.normalized(fromDomain)?.joined(separator: ".") ?? fromDomain
        var result = DMARCResult(status: .none, fromDomain: from, policyDomain: discovered.domain)
        let record: DMARCRecord
        switch discovered {
        case .none:
            return result
        case .temperror(_, let failure):
            result.status = .temperror
            result.reason = "DNS: \(failure)"
            return result
        case .permerror(_, let error):
            result.status = .permerror
            result.reason = error.description
            return result
        case .found(let found, _):
            record = found
        }
        result.record = record
        let isSubdomain = discovered.domain != from
        result.requestedPolicy = isSubdomain ? (record.subdomainPolicy ?? record.policy) : record.policy

        // §4.2: pass when SPF or DKIM gives a pass for an aligned identifier.
        if let spf, spf.result == .pass, alignment.aligned(spf.domain, with: from, mode: record.spfAlignment) {
            result.alignedSPFPass = true
        }
        result.alignedDKIMDomain = dkim.first {
            $0.result == .pass && alignment.aligned($0.domain, with: from, mode: record.dkimAlignment)
        }?.domain
        if result.alignedSPFPass || result.alignedDKIMPass {
            result.status = .pass
            return result
        }
        // A temporary error on an identifier that would have aligned might have been a pass: say temperror
        // (RFC 8601 §2.7.1 / §2.7.2 meaning) rather than fail, so the message is deferred, not rejected.
        let spfMaybe = spf.map { $0.result == .temperror
            && alignment.aligned($0.domain, with: from, mode: record.spfAlignment) } ?? false
        let dkimMaybe = dkim.contains { $0.result == .temperror
            && alignment.aligned($0.domain, with: from, mode: record.dkimAlignment) }
        if spfMaybe || dkimMaybe {
            result.status = .temperror
            result.reason = spfMaybe ? "SPF temperror for an aligned domain" : "DKIM temperror for an aligned domain"
            return result
        }
        result.status = .fail
        let requested = result.requestedPolicy ?? .none
        // §6.6.4: pct selects the share of failing messages the policy applies to; the rest get the next
        // milder policy (reject → quarantine → none).
        if pctDraw >= record.percent {
            result.sampledOut = true
            result.disposition = requested.downgraded
        } else {
            result.disposition = requested
        }
        return result
    }
}
