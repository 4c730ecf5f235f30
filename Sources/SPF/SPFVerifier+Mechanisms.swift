import DNSCore

/// Mechanism evaluation (RFC 7208 §5).
extension SPFVerifier {
    enum Match {
        case match
        case noMatch
        /// The check ends here with this result (temperror, permerror).
        case error(Outcome)
    }

    func matches(_ mechanism: SPFMechanism, context: SPFMacroContext, budget: inout Budget) async -> Match {
        let ip = context.ip
        switch mechanism {
        case .all:
            return .match

        case .ip4(let network, let prefix):
            return ip.isIPv4 && Self.prefixMatch(ip, network, prefix ?? 32) ? .match : .noMatch

        case .ip6(let network, let prefix):
            return !ip.isIPv4 && Self.prefixMatch(ip, network, prefix ?? 128) ? .match : .noMatch

        case .include(let spec):
            // §5.2: recursive check_host; only its pass matches; none becomes permerror.
            guard let target = await expandDomain(spec.macroString, context: context) else {
                return .error(.permerror("include:\(spec): not a valid domain name"))
            }
            let inner = await evaluate(domain: target, context: context, budget: &budget, wantExplanation: false)
            switch inner.result {
            case .pass: return .match
            case .fail, .softfail, .neutral: return .noMatch
            case .temperror, .permerror: return .error(Outcome(result: inner.result, problem: inner.problem))
            case .none: return .error(.permerror("include:\(target): no SPF record"))
            }

        case .a(let spec, let cidr):
            guard let target = await target(spec, context: context) else { return .noMatch }
            return await addressesMatch(target, cidr: cidr, ip: ip, budget: &budget, countVoid: true)

        case .mx(let spec, let cidr):
            guard let target = await target(spec, context: context) else { return .noMatch }
            let answer: DNSAnswer
            switch await resolver.lookup(target, .mx) {
            case .answer(let a): answer = a
            case .nxdomain, .noData: return voidLookup(&budget)
            case let failure: return .error(.temperror("DNS \(failure.failure!) looking up MX \(target)"))
            }
            let exchanges = answer.data.compactMap { data -> DNSName? in
                guard case .mx(_, let exchange) = data else { return nil }
                return exchange
            }
            // §4.6.4: more than 10 MX names is a permerror.
            if exchanges.count > SPFLimits.mxNames {
                return .error(.permerror("MX of \(target) has more than \(SPFLimits.mxNames) names"))
            }
            for exchange in exchanges where !exchange.isRoot {  // RFC 7505 null MX: nothing to look up
                let found = await addressesMatch(exchange.description, cidr: cidr, ip: ip, budget: &budget,
                                                 countVoid: false)
                if case .noMatch = found { continue }
                return found
            }
            return .noMatch

        case .ptr(let spec):
            guard let target = await target(spec, context: context), let suffix = try? DNSName(target) else {
                return .noMatch
            }
            let names: [DNSName]
            switch await resolver.ptr(for: ip) {
            case .success(let list): names = list
            case .failure(let failure):
                // §5.5: a PTR lookup error makes the mechanism not match; no answer is a void lookup.
                if !failure.isTemporary { return voidLookup(&budget) }
                return .noMatch
            }
            let candidates = names.prefix(SPFLimits.ptrNames).filter { Self.isSubdomain($0, of: suffix) }
            for name in candidates where await isValidated(name, ip: ip) { return .match }
            return .noMatch

        case .exists(let spec):
            guard let target = await expandDomain(spec.macroString, context: context) else { return .noMatch }
            switch await resolver.lookup(target, .a) {  // §5.7: always A, even for IPv6 clients
            case .answer(let answer): return answer.records.isEmpty ? voidLookup(&budget) : .match
            case .nxdomain, .noData: return voidLookup(&budget)
            case let failure: return .error(.temperror("DNS \(failure.failure!) looking up A \(target)"))
            }
        }
    }

    /// The target-name of a/mx/ptr: the expanded domain-spec, or the current domain.
    func target(_ spec: SPFDomainSpec?, context: SPFMacroContext) async -> String? {
        guard let spec else { return context.domain }
        return await expandDomain(spec.macroString, context: context)
    }

    /// §4.6.4: counts a void lookup; the third one ends the check with permerror.
    func voidLookup(_ budget: inout Budget) -> Match {
        budget.voids += 1
        if budget.voids > SPFLimits.voidLookups {
            return .error(.permerror("more than \(SPFLimits.voidLookups) void DNS lookups"))
        }
        return .noMatch
    }

    /// §5.3: looks up A (IPv4 client) or AAAA (IPv6 client) of `name` and compares with the CIDR length.
    func addressesMatch(_ name: String, cidr: SPFDualCIDR, ip: IPAddress, budget: inout Budget,
                        countVoid: Bool) async -> Match {
        let type: DNSRecordType = ip.isIPv4 ? .a : .aaaa
        switch await resolver.lookup(name, type) {
        case .answer(let answer):
            let prefix = ip.isIPv4 ? (cidr.ipv4 ?? 32) : (cidr.ipv6 ?? 128)
            for data in answer.data {
                switch data {
                case .a(let address), .aaaa(let address):
                    if address.isIPv4 == ip.isIPv4, Self.prefixMatch(ip, address, prefix) { return .match }
                default: continue
                }
            }
            return .noMatch
        case .nxdomain, .noData:
            return countVoid ? voidLookup(&budget) : .noMatch
        case let failure:
            return .error(.temperror("DNS \(failure.failure!) looking up \(type) \(name)"))
        }
    }

    /// §5.5: a PTR name is validated when one of its A/AAAA records is the client address. DNS errors
    /// skip the name.
    func isValidated(_ name: DNSName, ip: IPAddress) async -> Bool {
        guard let answer = await resolver.lookup(name.description, ip.isIPv4 ? .a : .aaaa).answer else { return false }
        return answer.data.contains { $0 == .a(ip) || $0 == .aaaa(ip) }
    }

    /// §7.3 `%{p}`: a validated name of the client, preferring the current domain, then one of its
    /// subdomains, then any; "unknown" if none. At most 10 PTR names are looked at (§4.6.4).
    func validatedDomain(_ context: SPFMacroContext) async -> String {
        guard case .success(let names) = await resolver.ptr(for: context.ip) else { return "unknown" }
        let domain = try? DNSName(context.domain)
        var validated: [DNSName] = []
        for name in names.prefix(SPFLimits.ptrNames) where await isValidated(name, ip: context.ip) {
            validated.append(name)
        }
        if let domain {
            if let exact = validated.first(where: { $0 == domain }) { return exact.description }
            if let sub = validated.first(where: { Self.isSubdomain($0, of: domain) }) { return sub.description }
        }
        return validated.first?.description ?? "unknown"
    }

    /// True if `name` equals `domain` or ends in `.domain` (labels compared case-insensitively).
    static func isSubdomain(_ name: DNSName, of domain: DNSName) -> Bool {
        guard name.labels.count >= domain.labels.count else { return false }
        return (try? DNSName(labels: Array(name.labels.suffix(domain.labels.count)))) == domain
    }

    /// True if the first `prefix` bits of `a` and `b` (same family) are equal.
    static func prefixMatch(_ a: IPAddress, _ b: IPAddress, _ prefix: Int) -> Bool {
        guard a.bytes.count == b.bytes.count else { return false }
        var bits = prefix
        for (x, y) in zip(a.bytes, b.bytes) {
            if bits <= 0 { return true }
            let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if x & mask != y & mask { return false }
            bits -= 8
        }
        return true
    }
}
