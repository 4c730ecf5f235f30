import DNSCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SMTPProtocol
import SMTPTransport

/// Delivery to other mail servers over SMTP (RFC 5321), DESIGN.md §4.
///
/// For one destination domain:
/// 1. MX lookup (§5.1). Hosts by preference, shuffled among equal preferences. NODATA: the domain itself
///    is the only host ("implicit MX"). NXDOMAIN, or a null MX (RFC 7505: a single MX `.`): permanent
///    failure at once. SERVFAIL or timeout: temporary.
/// 2. For each host, its AAAA and A addresses (IPv6 first); for each address, connect on `[delivery]
///    smtp_port`, read the 220, EHLO with our host name, STARTTLS whenever offered (verified against the
///    system store or `ca_file`; when verification fails, once more without it: unverified TLS still beats
///    plaintext). The level reached is recorded per domain (`TLSLevelStore`) and never lowered: a host
///    offering less than the domain has shown before is skipped, and if none does, the mail is deferred.
///    DANE (RFC 7672, `RemoteCourier+DANE.swift`): when `[dns] dnssec` is on and the MX, address and TLSA
///    records of a host are all DNSSEC-validated, TLS is mandatory and the certificate must match a TLSA
///    record; such a host is exempt from MTA-STS (RFC 8461 §2).
/// 3. One transaction with every recipient: MAIL with SIZE, BODY=8BITMIME and SMTPUTF8 as needed; RCPTs and
///    DATA pipelined when PIPELINING is offered; a result per recipient from its RCPT reply and the final
///    reply after the message.
/// Trouble before MAIL (connect, greeting, EHLO, TLS) moves on to the next address or host; once a server
/// has answered MAIL, its replies decide.
public struct RemoteCourier: Courier {
    public let hostname: String
    public let port: Int
    public let dns: any DNSResolving
    public let tlsLevels: TLSLevelStore
    public let timeouts: SMTPClientTimeouts
    /// Sessions kept open between messages to one domain.
    public let pool: SMTPConnectionPool
    /// MTA-STS (RFC 8461) policies; nil turns MTA-STS off.
    public let mtaSTS: MTASTSPolicyStore?
    /// `[delivery.providers]`: MX host patterns with connection and pace limits.
    public let providers: [Provider]
    /// Where those limits are kept; nil turns pacing off.
    public let pacing: (any ProviderPacing)?
    /// `ip_version`, `source_ipv4`, `source_ipv6`.
    public let outbound: OutboundAddresses
    /// `[dns] dnssec`: the resolver's AD bit is trusted, and DANE applies where the records are signed.
    public let dnssec: Bool
    /// Where TLS negotiation outcomes are counted for TLS-RPT (RFC 8460); nil turns counting off.
    public var tlsReports: TLSReportRecorder? = nil
    let verifyingContext: NIOSSLContext
    let opportunisticContext: NIOSSLContext
    /// Asks for the server's certificate; the DANE check replaces the CA check (`startTLS(verification:)`).
    let daneContext: NIOSSLContext
    let group: any EventLoopGroup
    let logger: Logger

    /// At most this many MX hosts, and addresses per host, are tried in one attempt.
    public static let maxHosts = 10
    public static let maxAddressesPerHost = 4

    /// - Parameter caFile: PEM file of trusted CAs; empty means the system trust store.
    public init(hostname: String, port: Int = 25, dns: any DNSResolving, tlsLevels: TLSLevelStore, caFile: String = "",
                timeouts: SMTPClientTimeouts = SMTPClientTimeouts(), pool: SMTPConnectionPool = SMTPConnectionPool(),
                mtaSTS: MTASTSPolicyStore? = nil, providers: [Provider] = [], pacing: (any ProviderPacing)? = nil,
                outbound: OutboundAddresses = OutboundAddresses(), dnssec: Bool = false,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) throws {
        self.outbound = outbound
        self.dnssec = dnssec
        self.providers = providers
        self.pacing = pacing
        self.pool = pool
        self.mtaSTS = mtaSTS
        self.hostname = hostname
        self.port = port
        self.dns = dns
        self.tlsLevels = tlsLevels
        self.timeouts = timeouts
        self.group = group
        self.logger = logger
        var verifying = TLSConfiguration.makeClientConfiguration()
        verifying.certificateVerification = .fullVerification
        if !caFile.isEmpty { verifying.trustRoots = .file(caFile) }
        self.verifyingContext = try NIOSSLContext(configuration: verifying)
        var opportunistic = TLSConfiguration.makeClientConfiguration()
        opportunistic.certificateVerification = .none
        self.opportunisticContext = try NIOSSLContext(configuration: opportunistic)
        var dane = TLSConfiguration.makeClientConfiguration()
        dane.certificateVerification = .noHostnameVerification
        self.daneContext = try NIOSSLContext(configuration: dane)
    }

    /// MX hosts in the order to try: by preference, random among equal preferences (RFC 5321 §5.1).
    public static func orderHosts(_ records: [MXRecord], using rng: inout some RandomNumberGenerator) -> [String] {
        let groups = Dictionary(grouping: records, by: \.preference)
        return groups.keys.sorted().flatMap { groups[$0]!.shuffled(using: &rng).map { $0.exchange.description } }
    }

    public func deliver(_ batch: DeliveryBatch) async -> [RecipientResult] {
        await deliver(domain: batch.destination, mailFrom: batch.mailFrom, recipients: batch.addresses,
                      message: batch.message, smtputf8: batch.smtputf8, options: batch.options)
    }

    /// One attempt for `recipients`, all in `domain`: MX lookup, then host after host until one answers.
    public func deliver(domain: String, mailFrom: String, recipients: [String], message: ByteBuffer,
                        smtputf8: Bool, options: DeliveryOptions = DeliveryOptions()) async -> [RecipientResult] {
        func all(_ outcome: RecipientResult.Outcome, _ status: EnhancedStatusCode, _ reason: String) -> [RecipientResult] {
            RecipientResult.all(recipients, outcome, status, reason)
        }
        if !options.requireTLS,
           let results = await reuse(domain: domain, mailFrom: mailFrom, recipients: recipients, message: message,
                                     smtputf8: smtputf8) {
            return results
        }
        var hosts: [String]
        var implicitMX = false
        let (mx, mxSigned) = await mxLookup(domain)
        var mxSecure = mxSigned
        switch mx {
        case .success(let records):
            if records.contains(where: \.isNullMX) {
                return all(.permanent, EnhancedStatusCode(5, 1, 10), "the domain \(domain) accepts no mail (null MX, RFC 7505)")
            }
            var rng = SystemRandomNumberGenerator()
            hosts = Self.orderHosts(records, using: &rng)
        case .failure(.noData):
            hosts = [domain]
            implicitMX = true
            mxSecure = true   // DANE then rests on the domain's own address records (RFC 7672 §2.2.1)
        case .failure(.nxdomain):
            return all(.permanent, EnhancedStatusCode(5, 1, 2), "the domain \(domain) does not exist (NXDOMAIN)")
        case .failure(let failure):
            return all(.temporary, EnhancedStatusCode(4, 4, 3), "MX lookup for \(domain) failed: \(failure)")
        }

        let lookup = await mtaSTS?.lookup(domain)
        var options = options
        options.reportPolicy = options.tlsReport ? nil : TLSReportPolicy(lookup)
        let security: DomainSecurity
        // `TLS-Required: No` (RFC 8689 §4.2.2): MTA-STS and DANE are not applied.
        switch await domainSecurity(domain, hosts: &hosts, daneCandidate: dnssec && mxSecure && !options.tlsOptional,
                                    policy: options.tlsOptional ? nil : lookup?.policy) {
        case .success(let found): security = found
        case .failure(let refusal): return all(.temporary, EnhancedStatusCode(4, 7, 5), refusal.reason)
        }
        var lastError = "no mail server of \(domain) could be reached"
        var unfitForRequireTLS: String?
        var anyAddress = false, temporaryDNS = false
        for host in hosts.prefix(Self.maxHosts) {
            let ips: [IPAddress]
            switch await dns.addresses(host) {
            case .success(let list):
                ips = outbound.usable(list)
                anyAddress = true
                if ips.isEmpty {
                    lastError = "\(host) has no \(outbound.ipVersion == .ipv4 ? "IPv4" : "IPv6") address ([delivery] ip_version = \"\(outbound.ipVersion.rawValue)\")"
                }
            case .failure(let failure):
                if failure.isTemporary { temporaryDNS = true }
                lastError = "address lookup for \(host) failed: \(failure)"
                continue
            }
            var plan: HostSecurity
            switch await hostSecurity(host, domain: domain, security) {
            case .success(let found):
                plan = found
                (plan.required, plan.requirement) = Self.tlsRequirement(plan.required, plan.requirement, options: options)
            case .failure(let skip):
                if skip.temporary { temporaryDNS = true }
                lastError = skip.reason
                logger.info("delivery to \(domain) via \(host) not possible: \(skip.reason)")
                continue
            }
            for ip in ips.prefix(Self.maxAddressesPerHost) {
                switch await attempt(domain: domain, host: host, ip: ip.description, required: plan.required,
                                     requirement: plan.requirement, verify: true, dane: plan.dane,
                                     referenceNames: plan.referenceNames, options: options,
                                     mailFrom: mailFrom, recipients: recipients, message: message, smtputf8: smtputf8) {
                case .done(let results):
                    return results
                case .tryNext(let why):
                    logger.info("delivery to \(domain) via \(host) [\(ip)] not possible: \(why)")
                    lastError = why
                case .unfitForRequireTLS(let why):
                    logger.info("delivery to \(domain) via \(host) [\(ip)] not possible for a REQUIRETLS message: \(why)")
                    lastError = why
                    unfitForRequireTLS = why
                }
            }
        }
        if let why = unfitForRequireTLS { return Self.requireTLSFailure(recipients, why) }
        if implicitMX && !anyAddress && !temporaryDNS {
            return all(.permanent, EnhancedStatusCode(5, 1, 2), "the domain \(domain) has no MX and no address record")
        }
        return all(.temporary, EnhancedStatusCode(4, 4, 1), lastError)
    }
}
