import DNSCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
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
                mtaSTS: MTASTSPolicyStore? = nil,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) throws {
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

    public func deliver(domain: String, mailFrom: String, recipients: [String], message: ByteBuffer,
                        smtputf8: Bool) async -> [RecipientResult] {
        func all(_ outcome: RecipientResult.Outcome, _ status: String, _ reason: String) -> [RecipientResult] {
            recipients.map { RecipientResult(address: $0, outcome: outcome, status: status, reply: reason) }
        }
        if let results = await reuse(domain: domain, mailFrom: mailFrom, recipients: recipients, message: message,
                                     smtputf8: smtputf8) {
            return results
        }
        var hosts: [String]
        var implicitMX = false
        switch await dns.mx(domain) {
        case .success(let records):
            if records.contains(where: \.isNullMX) {
                return all(.permanent, "5.1.10", "the domain \(domain) accepts no mail (null MX, RFC 7505)")
            }
            var rng = SystemRandomNumberGenerator()
            hosts = Self.orderHosts(records, using: &rng)
        case .failure(.noData):
            hosts = [domain]
            implicitMX = true
        case .failure(.nxdomain):
            return all(.permanent, "5.1.2", "the domain \(domain) does not exist (NXDOMAIN)")
        case .failure(let failure):
            return all(.temporary, "4.4.3", "MX lookup for \(domain) failed: \(failure)")
        }

        var required = await tlsLevels.level(for: domain)
        var requirement = "\(domain) was seen with \(required.rawValue) before"
        // RFC 8461 §4: under an enforced MTA-STS policy only matching MX hosts, and only over verified TLS.
        if let policy = await mtaSTS?.policy(for: domain) {
            let allowed = hosts.filter(policy.matches)
            if policy.mode == .enforce {
                guard !allowed.isEmpty else {
                    return all(.temporary, "4.7.5", "no MX host of \(domain) matches its MTA-STS policy (mx: \(policy.mx.joined(separator: ", ")))")
                }
                hosts = allowed
                required = .tlsVerified
                requirement = "\(domain) has an MTA-STS policy in enforce mode"
            } else if allowed.count < hosts.count {
                logger.notice("MTA-STS testing mode: \(domain) MX hosts outside the policy: \(hosts.filter { !policy.matches($0) })")
            }
        }
        var lastError = "no mail server of \(domain) could be reached"
        var anyAddress = false, temporaryDNS = false
        for host in hosts.prefix(Self.maxHosts) {
            let ips: [IPAddress]
            switch await dns.addresses(host) {
            case .success(let list):
                ips = list
                anyAddress = true
            case .failure(let failure):
                if failure.isTemporary { temporaryDNS = true }
                lastError = "address lookup for \(host) failed: \(failure)"
                continue
            }
            for ip in ips.prefix(Self.maxAddressesPerHost) {
                switch await attempt(domain: domain, host: host, ip: ip.description, required: required,
                                     requirement: requirement, verify: true,
                                     mailFrom: mailFrom, recipients: recipients, message: message, smtputf8: smtputf8) {
                case .done(let results):
                    return results
                case .tryNext(let why):
                    logger.info("delivery to \(domain) via \(host) [\(ip)] not possible: \(why)")
                    lastError = why
                }
            }
        }
        if implicitMX && !anyAddress && !temporaryDNS {
            return all(.permanent, "5.1.2", "the domain \(domain) has no MX and no address record")
        }
        return all(.temporary, "4.4.1", lastError)
    }

    enum Attempt {
        case done([RecipientResult])
        case tryNext(String)
    }

    func attempt(domain: String, host: String, ip: String, required: TLSLevel, requirement: String, verify: Bool,
                 mailFrom: String,
                 recipients: [String], message: ByteBuffer, smtputf8: Bool) async -> Attempt {
        let mta = "\(host) [\(ip)]"
        let connection: SMTPClientConnection
        do {
            var log = logger
            log[metadataKey: "mx"] = "\(mta)"
            connection = try await SMTPClientConnection.connect(ip: ip, port: port, timeouts: timeouts, group: group,
                                                                logger: log)
        } catch {
            return .tryNext("\(error)")
        }
        do {
            let greeting = try await connection.readReply(timeout: timeouts.greeting, waitingFor: "the greeting")
            guard greeting.code == 220 else {
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
            if esmtp && ehlo.extensions["STARTTLS"] != nil {
                let reply = try await connection.command("STARTTLS")
                if reply.code == 220 {
                    do {
                        tlsVersion = try await connection.startTLS(context: verify ? verifyingContext : opportunisticContext,
                                                                   serverHostname: verify ? host : nil)
                        level = verify ? .tlsVerified : .tlsUnverified
                    } catch {
                        await connection.close()
                        if verify && required < .tlsVerified {
                            logger.info("TLS with \(mta) not verified (\(error)); trying again without verification")
                            return await attempt(domain: domain, host: host, ip: ip, required: required,
                                                 requirement: requirement, verify: false,
                                                 mailFrom: mailFrom, recipients: recipients, message: message,
                                                 smtputf8: smtputf8)
                        }
                        return .tryNext("TLS: \(error)")
                    }
                    ehlo = try await connection.command("EHLO \(hostname)")
                    guard ehlo.isPositive else {
                        await connection.quit()
                        return .tryNext("EHLO after STARTTLS: \(ehlo)")
                    }
                } else if required > .plain {
                    await connection.quit()
                    return .tryNext("STARTTLS refused: \(reply)")
                }
            }
            guard level >= required else {
                await connection.quit()
                return .tryNext("\(requirement) but \(mta) offers only \(level.rawValue): not sending (downgrade protection)")
            }
            do { try await tlsLevels.raise(domain, to: level) } catch {
                logger.error("cannot record TLS level of \(domain): \(error)")
            }
            let tls = tlsVersion.map { "\($0) \(level == .tlsVerified ? "verified" : "unverified")" }
            do {
                let results = try await transaction(connection, ehlo: ehlo, mta: mta, tls: tls, mailFrom: mailFrom,
                                                    recipients: recipients, message: message, smtputf8: smtputf8)
                await finish(SMTPConnectionPool.Session(connection: connection, ehlo: ehlo, mta: mta, tls: tls, transactions: 1),
                             domain: domain)
                return .done(results)
            } catch {
                // The server took part in the transaction: its failure defers every recipient not yet done.
                await connection.close()
                return .done(recipients.map {
                    RecipientResult(address: $0, outcome: .temporary, status: "4.4.2", reply: "\(mta): \(error)",
                                    remoteMTA: mta, tls: tls)
                })
            }
        } catch {
            await connection.close()
            return .tryNext("\(error)")
        }
    }

    /// A parked session to `domain`, reset with RSET, carries this message too. Nil when there is none or
    /// it turned out to be unusable before MAIL (then the normal path runs).
    func reuse(domain: String, mailFrom: String, recipients: [String], message: ByteBuffer, smtputf8: Bool) async
        -> [RecipientResult]? {
        while var session = await pool.take(domain) {
            do {
                let reset = try await session.connection.command("RSET")
                guard reset.code == 250 else {
                    await session.connection.quit()
                    continue
                }
            } catch {
                await session.connection.close()
                continue
            }
            logger.debug("reusing the connection to \(session.mta) for \(domain)")
            do {
                let results = try await transaction(session.connection, ehlo: session.ehlo, mta: session.mta, tls: session.tls,
                                                    mailFrom: mailFrom, recipients: recipients, message: message,
                                                    smtputf8: smtputf8)
                session.transactions += 1
                await finish(session, domain: domain)
                return results
            } catch {
                await session.connection.close()
                return recipients.map {
                    RecipientResult(address: $0, outcome: .temporary, status: "4.4.2", reply: "\(session.mta): \(error)",
                                    remoteMTA: session.mta, tls: session.tls)
                }
            }
        }
        return nil
    }

    /// After a transaction: park the session for the next message, or QUIT.
    func finish(_ session: SMTPConnectionPool.Session, domain: String) async {
        if !(await pool.park(session, for: domain)) { await session.connection.quit() }
    }

    /// MAIL, RCPT…, DATA on an established session (RFC 5321 §3.3), pipelined when offered (RFC 2920).
    func transaction(_ connection: SMTPClientConnection, ehlo: SMTPClientReply, mta: String, tls: String?,
                     mailFrom: String, recipients: [String], message: ByteBuffer, smtputf8: Bool) async throws
        -> [RecipientResult] {
        func result(_ address: String, _ reply: SMTPClientReply) -> RecipientResult {
            let outcome: RecipientResult.Outcome = reply.isPermanent ? .permanent : reply.isPositive ? .sent : .temporary
            let status = reply.enhancedStatus ?? (reply.isPermanent ? "5.0.0" : reply.isPositive ? "2.0.0" : "4.0.0")
            return RecipientResult(address: address, outcome: outcome, status: status, reply: reply.description,
                                   remoteMTA: mta, tls: tls)
        }
        func all(_ outcome: RecipientResult.Outcome, _ status: String, _ reason: String) -> [RecipientResult] {
            recipients.map { RecipientResult(address: $0, outcome: outcome, status: status, reply: reason, remoteMTA: mta, tls: tls) }
        }
        let extensions = ehlo.extensions
        let size = message.readableBytes
        var parameters = ""
        if let limit = extensions["SIZE"] {
            if let max = Int(limit), max > 0, size > max {
                await connection.quit()
                return all(.permanent, "5.3.4", "message of \(size) bytes exceeds the limit of \(max) bytes of \(mta)")
            }
            parameters += " SIZE=\(size)"
        }
        let eightBit = message.readableBytesView.contains { $0 >= 0x80 }
        if eightBit && extensions["8BITMIME"] != nil { parameters += " BODY=8BITMIME" }
        let needsUTF8 = smtputf8 || !mailFrom.allSatisfy(\.isASCII) || recipients.contains { !$0.allSatisfy(\.isASCII) }
        if needsUTF8 {
            guard extensions["SMTPUTF8"] != nil else {
                await connection.quit()
                return all(.permanent, "5.6.7", "\(mta) does not support SMTPUTF8, which this message needs (RFC 6531)")
            }
            parameters += " SMTPUTF8"
        }
        let mailCommand = "MAIL FROM:<\(mailFrom)>\(parameters)"
        let rcptCommands = recipients.map { "RCPT TO:<\($0)>" }
        let t = timeouts
        var mailReply: SMTPClientReply
        var rcptReplies: [SMTPClientReply] = []
        var dataReply: SMTPClientReply?
        if extensions["PIPELINING"] != nil {
            try await connection.send([mailCommand] + rcptCommands + ["DATA"])
            mailReply = try await connection.readReply(timeout: t.mailAndRcpt, waitingFor: "the reply to MAIL")
            for _ in recipients {
                rcptReplies.append(try await connection.readReply(timeout: t.mailAndRcpt, waitingFor: "the reply to RCPT"))
            }
            dataReply = try await connection.readReply(timeout: t.dataInitiation, waitingFor: "the reply to DATA")
        } else {
            mailReply = try await connection.command(mailCommand, timeout: t.mailAndRcpt)
            if mailReply.isPositive {
                for command in rcptCommands {
                    rcptReplies.append(try await connection.command(command, timeout: t.mailAndRcpt))
                }
                if rcptReplies.contains(where: \.isPositive) {
                    dataReply = try await connection.command("DATA", timeout: t.dataInitiation)
                }
            }
        }
        guard mailReply.isPositive else {
            if dataReply?.code == 354 { await connection.close() } else { await connection.quit() }
            return recipients.map { result($0, mailReply) }
        }
        var results = zip(recipients, rcptReplies).map { result($0, $1) }
        let accepted = results.indices.filter { results[$0].outcome == .sent }
        guard !accepted.isEmpty else {
            if dataReply?.code == 354 { await connection.close() } else { await connection.quit() }
            return results
        }
        guard let dataReply, dataReply.code == 354 else {
            await connection.quit()
            let reply = dataReply ?? SMTPClientReply(code: 451, lines: ["4.0.0 no reply to DATA"])
            let bad = reply.isPositive ? SMTPClientReply(code: 451, lines: ["4.5.0 unexpected reply to DATA: \(reply)"]) : reply
            for i in accepted { results[i] = result(recipients[i], bad) }
            return results
        }
        try await connection.sendMessage(message)
        let final = try await connection.readReply(timeout: t.dataTermination, waitingFor: "the reply after the message")
        for i in accepted { results[i] = result(recipients[i], final) }
        return results
    }
}
