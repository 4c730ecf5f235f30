import DNSCore

/// What the pure check needs from outside besides DNS.
public struct SPFOptions: Sendable, Hashable {
    /// Our host name, for `%{r}` in explanations (RFC 7208 §7.2; "unknown" when not known).
    public var receiver: String
    /// Seconds since the epoch for `%{t}` (the module has no clock; the caller passes the time).
    public var timestamp: Int
    /// Explanation text (with macros, §6.2 explain-string) for a `fail` when the record has no usable
    /// `exp=`; nil gives no explanation.
    public var defaultExplanation: String?

    public init(receiver: String = "unknown", timestamp: Int = 0, defaultExplanation: String? = nil) {
        self.receiver = receiver; self.timestamp = timestamp; self.defaultExplanation = defaultExplanation
    }
}

/// `check_host()` of RFC 7208 §4 over any `DNSResolving`.
///
/// ```swift
/// let spf = SPFVerifier(resolver: dns, options: SPFOptions(receiver: "mx.example.org", timestamp: now))
/// let r = await spf.checkMailFrom(ip: client, mailFrom: "alice@example.com", helo: "mail.example.com")
/// if r.result == .fail { reply 550 5.7.23 … r.explanation }
/// header: r.receivedSPFHeader(receiver: "mx.example.org")
/// ```
public struct SPFVerifier: Sendable {
    public var resolver: any DNSResolving
    public var options: SPFOptions

    public init(resolver: any DNSResolving, options: SPFOptions = SPFOptions()) {
        self.resolver = resolver
        self.options = options
    }

    /// The MAIL FROM check (RFC 7208 §2.4): the sender's domain; for an empty reverse-path the sender is
    /// `postmaster@<helo>` and the domain the HELO name.
    public func checkMailFrom(ip: IPAddress, mailFrom: String, helo: String) async -> SPFCheckResult {
        var sender = mailFrom
        if sender.isEmpty { sender = "postmaster@" + helo }
        let domain: String
        if let at = sender.utf8.lastIndex(of: UInt8(ascii: "@")) {
            domain = String(sender[sender.index(after: at)...])
            if at == sender.startIndex { sender = "postmaster" + sender }  // §4.3: no local part
        } else {
            domain = sender
            sender = "postmaster@" + sender
        }
        return await checkHost(ip: ip, domain: domain, sender: sender, helo: helo, identity: .mailfrom)
    }

    /// The HELO check (RFC 7208 §2.3): the HELO name with sender `postmaster@<helo>`.
    public func checkHELO(ip: IPAddress, helo: String) async -> SPFCheckResult {
        await checkHost(ip: ip, domain: helo, sender: "postmaster@" + helo, helo: helo, identity: .helo)
    }

    /// check_host(<ip>, <domain>, <sender>) of RFC 7208 §4, with the HELO name for `%{h}`.
    public func checkHost(ip: IPAddress, domain: String, sender: String, helo: String,
                          identity: SPFIdentity = .mailfrom) async -> SPFCheckResult {
        let client = Self.unmapped(ip)
        let context = SPFMacroContext(sender: sender, domain: domain, ip: client, helo: helo,
                                      receiver: options.receiver, timestamp: options.timestamp)
        var budget = Budget()
        let outcome = await evaluate(domain: domain, context: context, budget: &budget, wantExplanation: true)
        return SPFCheckResult(result: outcome.result, explanation: outcome.explanation,
                              mechanism: outcome.mechanism, problem: outcome.problem, ip: client,
                              domain: domain, sender: sender, helo: helo, identity: identity)
    }

    /// RFC 7208 §5 (last paragraphs): an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is treated as IPv4.
    static func unmapped(_ ip: IPAddress) -> IPAddress {
        guard !ip.isIPv4, ip.bytes[0..<10].allSatisfy({ $0 == 0 }), ip.bytes[10] == 0xFF, ip.bytes[11] == 0xFF
        else { return ip }
        return IPAddress(bytes: Array(ip.bytes[12...]))!
    }

    /// Counters shared by the whole check, includes and redirects included (§4.6.4).
    struct Budget {
        var lookups = 0
        var voids = 0
    }

    /// The result of one record's evaluation (an `Error` only so it can travel in a `Result`).
    struct Outcome: Error {
        var result: SPFResult
        var explanation: String?
        var mechanism: String?
        var problem: String?

        static func permerror(_ why: String) -> Outcome { Outcome(result: .permerror, problem: why) }
        static func temperror(_ why: String) -> Outcome { Outcome(result: .temperror, problem: why) }
    }

    /// §4.3–§4.7 for one domain: select the record, parse it, run the directives, then `redirect=`.
    func evaluate(domain: String, context: SPFMacroContext, budget: inout Budget,
                  wantExplanation: Bool) async -> Outcome {
        var domain = domain
        if domain.hasSuffix(".") { domain.removeLast() }
        guard SPFName.isValidCheckDomain(domain) else {
            return Outcome(result: .none, problem: "invalid domain name \(domain)")
        }
        let record: SPFRecord
        switch await selectRecord(domain) {
        case .failure(let outcome): return outcome
        case .success(let text):
            do { record = try SPFRecord.parse(text) } catch {
                return .permerror("\(domain): \(error)")
            }
        }
        var context = context
        context.domain = domain
        for directive in record.directives {
            if directive.mechanism.causesDNSLookup {
                budget.lookups += 1
                if budget.lookups > SPFLimits.dnsMechanisms {
                    return .permerror("more than \(SPFLimits.dnsMechanisms) DNS lookups")
                }
            }
            switch await matches(directive.mechanism, context: context, budget: &budget) {
            case .noMatch:
                continue
            case .error(let outcome):
                return outcome
            case .match:
                var outcome = Outcome(result: directive.qualifier.result, mechanism: directive.description)
                if outcome.result == .fail && wantExplanation {
                    outcome.explanation = await explanation(for: record, context: context)
                }
                return outcome
            }
        }
        if let redirect = record.redirect {
            // §6.1: counts as a DNS term; a malformed target or one without a record is a permerror.
            budget.lookups += 1
            if budget.lookups > SPFLimits.dnsMechanisms {
                return .permerror("more than \(SPFLimits.dnsMechanisms) DNS lookups")
            }
            guard let target = await expandDomain(redirect.macroString, context: context) else {
                return .permerror("redirect=\(redirect): not a valid domain name")
            }
            let outcome = await evaluate(domain: target, context: context, budget: &budget,
                                         wantExplanation: wantExplanation)
            if outcome.result == .none { return .permerror("redirect=\(target): no SPF record") }
            return outcome
        }
        return Outcome(result: .neutral)  // §4.7: no match, no redirect
    }

    /// §4.4, §4.5: the one TXT record of `domain` that starts with `v=spf1`.
    func selectRecord(_ domain: String) async -> Result<[UInt8], Outcome> {
        switch await resolver.lookup(domain, .txt) {
        case .answer(let answer):
            let records = answer.data.compactMap { data -> [UInt8]? in
                guard case .txt(let strings) = data else { return nil }
                return Array(strings.joined())
            }.filter(SPFRecord.isSPFRecord)
            if records.isEmpty { return .failure(Outcome(result: .none, problem: "no SPF record at \(domain)")) }
            if records.count > 1 { return .failure(.permerror("\(domain) has \(records.count) SPF records")) }
            return .success(records[0])
        case .nxdomain, .noData:
            return .failure(Outcome(result: .none, problem: "no SPF record at \(domain)"))
        case let failure:
            return .failure(.temperror("DNS \(failure.failure!) looking up TXT \(domain)"))
        }
    }

    /// Expands a domain-spec to a query name, resolving `%{p}` first when the string uses it.
    func expandDomain(_ string: SPFMacroString, context: SPFMacroContext) async -> String? {
        var context = context
        if string.usesValidatedDomain { context.validatedDomain = await validatedDomain(context) }
        return string.expandDomain(context)
    }
}
