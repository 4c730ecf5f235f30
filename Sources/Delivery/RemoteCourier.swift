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
    /// Where TLS negotiation outcomes are counted for TLS-RPT (RFC 8460); nil turns counting off.
    public var tlsReports: TLSReportRecorder? = nil
    let verifyingContext: NIOSSLContext
    let opportunisticContext: NIOSSLContext
    let group: any EventLoopGroup
    let logger: Logger

    /// At most this many MX hosts, and addresses per host, are tried in one attempt.
    public static let maxHosts = 10
    public static let maxAddressesPerHost = 4

    /// - Parameter caFile: PEM file of trusted CAs; empty means the system trust store.
    public init(hostname: String, port: Int = 25, dns: any DNSResolving, tlsLevels: TLSLevelStore, caFile: String = "",
                timeouts: SMTPClientTimeouts = SMTPClientTimeouts(), pool: SMTPConnectionPool = SMTPConnectionPool(),
                mtaSTS: MTASTSPolicyStore? = nil, providers: [Provider] = [], pacing: (any ProviderPacing)? = nil,
                outbound: OutboundAddresses = OutboundAddresses(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) throws {
        self.outbound = outbound
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
        switch await dns.mx(domain) {
        case .success(let records):
            if records.contains(where: \.isNullMX) {
                return all(.permanent, EnhancedStatusCode(5, 1, 10), "the domain \(domain) accepts no mail (null MX, RFC 7505)")
            }
            var rng = SystemRandomNumberGenerator()
            hosts = Self.orderHosts(records, using: &rng)
        case .failure(.noData):
            hosts = [domain]
            implicitMX = true
        case .failure(.nxdomain):
            return all(.permanent, EnhancedStatusCode(5, 1, 2), "the domain \(domain) does not exist (NXDOMAIN)")
        case .failure(let failure):
            return all(.temporary, EnhancedStatusCode(4, 4, 3), "MX lookup for \(domain) failed: \(failure)")
        }

        var required = await tlsLevels.level(for: domain)
        var requirement = "\(domain) was seen with \(required.rawValue) before"
        let lookup = await mtaSTS?.lookup(domain)
        var options = options
        options.reportPolicy = options.tlsReport ? nil : TLSReportPolicy(lookup)
        // RFC 8461 §4: under an enforced MTA-STS policy only matching MX hosts, and only over verified TLS.
        if let policy = lookup?.policy, !options.tlsOptional {
            let allowed = hosts.filter(policy.matches)
            if policy.mode == .enforce {
                guard !allowed.isEmpty else {
                    return all(.temporary, EnhancedStatusCode(4, 7, 5), "no MX host of \(domain) matches its MTA-STS policy (mx: \(policy.mx.joined(separator: ", ")))")
                }
                hosts = allowed
                required = .tlsVerified
                requirement = "\(domain) has an MTA-STS policy in enforce mode"
            } else if allowed.count < hosts.count {
                logger.notice("MTA-STS testing mode: \(domain) MX hosts outside the policy: \(hosts.filter { !policy.matches($0) })")
            }
        }
        (required, requirement) = Self.tlsRequirement(required, requirement, options: options)
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
            for ip in ips.prefix(Self.maxAddressesPerHost) {
                switch await attempt(domain: domain, host: host, ip: ip.description, required: required,
                                     requirement: requirement, verify: true, options: options,
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

    enum Attempt {
        case done([RecipientResult])
        case tryNext(String)
        /// The host answered but cannot carry a REQUIRETLS message (RFC 8689 §4.2.1).
        case unfitForRequireTLS(String)
    }

    func attempt(domain: String, host: String, ip: String, required: TLSLevel, requirement: String, verify: Bool,
                 options: DeliveryOptions = DeliveryOptions(), mailFrom: String,
                 recipients: [String], message: ByteBuffer, smtputf8: Bool) async -> Attempt {
        let mta = "\(host) [\(ip)]"
        let provider = Provider.of(host, in: providers)
        await openSlot(provider)
        let connection: SMTPClientConnection
        do {
            var log = logger
            log[metadataKey: "mx"] = "\(mta)"
            connection = try await SMTPClientConnection.connect(ip: ip, port: port, timeouts: timeouts, group: group,
                                                                source: outbound.source(for: ip), logger: log)
        } catch {
            closeSlot(provider)
            return .tryNext("\(error)")
        }
        releaseSlotOnClose(connection, provider)
        do {
            let greeting = try await connection.readReply(timeout: timeouts.greeting, waitingFor: "the greeting")
            guard greeting.code == 220 else {
                noteRateLimit(greeting, provider)
                await connection.quit()
                return .tryNext("greeting: \(greeting)")
            }
            var ehlo = try await connection.command("EHLO \(hostname)")
            var esmtp = true
            if !ehlo.isPositive {
                ehlo = try await connection.command("HELO \(hostname)")
                esmtp = false
                guard ehlo.isPositive else {
                    await connection.quit()
                    return .tryNext("HELO: \(ehlo)")
                }
            }
            var level = TLSLevel.plain
            var tlsVersion: String?
            let report = TLSReportSession(courier: self, domain: domain, options: options, connection: connection, host: host, ip: ip)
            if esmtp && ehlo.extensions["STARTTLS"] != nil {
                let reply = try await connection.command("STARTTLS")
                if reply.code == 220 {
                    do {
                        tlsVersion = try await connection.startTLS(context: verify ? verifyingContext : opportunisticContext,
                                                                   serverHostname: verify ? host : nil)
                        level = verify ? .tlsVerified : .tlsUnverified
                        await report.established(verified: verify)
                    } catch {
                        await connection.close()
                        let retry = verify && required < .tlsVerified
                        await report.handshakeFailed(error, verified: verify, willRetry: retry)
                        if retry {
                            logger.info("TLS with \(mta) not verified (\(error)); trying again without verification")
                            return await attempt(domain: domain, host: host, ip: ip, required: required,
                                                 requirement: requirement, verify: false, options: options,
                                                 mailFrom: mailFrom, recipients: recipients, message: message,
                                                 smtputf8: smtputf8)
                        }
                        return refusal("TLS: \(error)", options)
                    }
                    ehlo = try await connection.command("EHLO \(hostname)")
                    guard ehlo.isPositive else {
                        await connection.quit()
                        return .tryNext("EHLO after STARTTLS: \(ehlo)")
                    }
                } else if required > .plain {
                    await report.noStartTLS()
                    await connection.quit()
                    return refusal("STARTTLS refused: \(reply)", options)
                }
            }
            if level == .plain { await report.noStartTLS() }
            guard level >= required else {
                await connection.quit()
                return refusal("\(requirement) but \(mta) offers only \(level.rawValue): not sending (downgrade protection)", options)
            }
            if let why = Self.requireTLSShortfall(ehlo: ehlo, mta: mta, options: options) {
                await connection.quit()
                return .unfitForRequireTLS(why)
            }
            do { try await tlsLevels.raise(domain, to: level) } catch {
                logger.error("cannot record TLS level of \(domain): \(error)")
            }
            let tls = tlsVersion.map { "\($0) \(level == .tlsVerified ? "verified" : "unverified")" }
            do {
                await messageSlot(provider)
                let results = paced(try await transaction(connection, ehlo: ehlo, mta: mta, tls: tls, mailFrom: mailFrom,
                                                          recipients: recipients, message: message, smtputf8: smtputf8,
                                                          requireTLS: options.requireTLS),
                                    provider)
                await finish(SMTPConnectionPool.Session(connection: connection, ehlo: ehlo, mta: mta, tls: tls, transactions: 1,
                                                        provider: provider),
                             domain: domain)
                return .done(results)
            } catch {
                // The server took part in the transaction: its failure defers every recipient not yet done.
                await connection.close()
                return .done(paced(RecipientResult.all(recipients, .temporary, EnhancedStatusCode(4, 4, 2), "\(mta): \(error)",
                                                        remoteMTA: mta, tls: tls), provider))
            }
        } catch {
            await connection.close()
            return .tryNext("\(error)")
        }
    }
}
