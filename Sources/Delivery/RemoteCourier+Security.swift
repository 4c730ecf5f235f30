import DANE

/// What a destination domain, and then each of its MX hosts, requires of the connection: the level the
/// domain has shown before (downgrade protection, `TLSLevelStore`), its MTA-STS policy (RFC 8461), and
/// DANE (RFC 7672), which takes precedence over MTA-STS for a host that has it (RFC 8461 §2).
struct DomainSecurity: Sendable {
    /// The level recorded for the domain.
    var seen: TLSLevel
    /// What a host without DANE must reach: `seen`, or verified TLS under MTA-STS enforce.
    var required: TLSLevel
    /// Why, for the refusal text.
    var requirement: String
    /// DANE may apply: `[dns] dnssec` is on and the MX answer was validated.
    var daneCandidate: Bool
    /// Under MTA-STS enforce with DANE possible: the hosts the policy lists (others need DANE).
    var policyHosts: Set<String>?
}

/// What one MX host must offer.
struct HostSecurity: Sendable {
    var required: TLSLevel
    var requirement: String
    /// `.required` when DANE applies to this host.
    var dane: DANEPolicy?
    /// Names a DANE-TA certificate may be for (RFC 7672 §3.2.2).
    var referenceNames: [String] = []
}

/// Why a domain or a host is not tried now.
struct SecuritySkip: Error, Sendable {
    var reason: String
    /// A DNS failure that may go away (the TLSA lookup), rather than a policy.
    var temporary = false
}

extension RemoteCourier {
    /// The domain's requirement. Under MTA-STS enforce without DANE, `hosts` is cut to the policy's hosts
    /// (none: a refusal, `4.7.5`).
    /// `policy`: the domain's MTA-STS policy, looked up by the caller (nil: none, or not to be applied).
    func domainSecurity(_ domain: String, hosts: inout [String], daneCandidate: Bool,
                        policy: MTASTSPolicy?) async -> Result<DomainSecurity, SecuritySkip> {
        let seen = await tlsLevels.level(for: domain)
        var security = DomainSecurity(seen: seen, required: seen, requirement: "\(domain) was seen with \(seen.rawValue) before",
                                      daneCandidate: daneCandidate)
        guard let policy else { return .success(security) }
        let allowed = hosts.filter(policy.matches)
        guard policy.mode == .enforce else {
            if allowed.count < hosts.count {
                logger.notice("MTA-STS testing mode: \(domain) MX hosts outside the policy: \(hosts.filter { !policy.matches($0) })")
            }
            return .success(security)
        }
        // RFC 8461 §4: under an enforced policy only matching MX hosts, and only over verified TLS.
        guard !allowed.isEmpty || daneCandidate else {
            return .failure(SecuritySkip(reason: "no MX host of \(domain) matches its MTA-STS policy (mx: \(policy.mx.joined(separator: ", ")))"))
        }
        if daneCandidate { security.policyHosts = Set(allowed) } else { hosts = allowed }
        security.required = .tlsVerified
        security.requirement = "\(domain) has an MTA-STS policy in enforce mode"
        return .success(security)
    }

    /// One host's requirement: DANE when its records say so, else the domain's.
    func hostSecurity(_ host: String, domain: String, _ security: DomainSecurity) async -> Result<HostSecurity, SecuritySkip> {
        guard security.daneCandidate else {
            return .success(HostSecurity(required: security.required, requirement: security.requirement))
        }
        let (dane, referenceNames) = await danePolicy(host: host, mxSecure: true)
        switch dane {
        case .lookupFailed(let why):
            return .failure(SecuritySkip(reason: why, temporary: true))
        case .required(let name, let usable, let unusable):
            logger.debug("DANE applies to \(host): \(usable.count) usable, \(unusable.count) unusable TLSA records at \(name)")
            return .success(HostSecurity(required: security.seen,
                                         requirement: "\(domain) was seen with \(security.seen.rawValue) before", dane: dane,
                                         referenceNames: referenceNames))
        case .notApplicable(let why):
            logger.debug("DANE does not apply to \(host): \(why)")
            if let hosts = security.policyHosts, !hosts.contains(host) {
                return .failure(SecuritySkip(reason: "\(host) is not an MX host of \(domain)'s MTA-STS policy and has no DANE TLSA records"))
            }
            return .success(HostSecurity(required: security.required, requirement: security.requirement))
        }
    }
}
