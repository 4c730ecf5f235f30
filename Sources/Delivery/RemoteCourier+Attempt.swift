import NIOCore
import SMTPProtocol
import SMTPTransport

/// One connection to one address of an MX host: greeting, EHLO, STARTTLS (`RemoteCourier+TLS.swift`), the
/// downgrade check, then the transaction.
extension RemoteCourier {
    enum Attempt {
        case done([RecipientResult])
        case tryNext(String)
        /// The host answered but cannot carry a REQUIRETLS message (RFC 8689 §4.2.1).
        case unfitForRequireTLS(String)
    }

    func attempt(domain: String, host: String, ip: String, required: TLSLevel, requirement: String, verify: Bool,
                 dane: DANEPolicy? = nil, referenceNames: [String] = [], options: DeliveryOptions = DeliveryOptions(),
                 mailFrom: String,
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
            let negotiated: (level: TLSLevel, stored: TLSLevel, tls: String?)
            let report = TLSReportSession(courier: self, domain: domain, options: options, connection: connection, host: host, ip: ip)
            switch try await negotiateTLS(connection, ehlo: &ehlo, esmtp: esmtp, host: host, mta: mta, required: required,
                                          verify: verify, dane: dane, referenceNames: referenceNames, report: report) {
            case .secured(let level, let stored, let tls):
                negotiated = (level, stored, tls)
            case .retryUnverified(let why):
                logger.info("TLS with \(mta) not verified (\(why)); trying again without verification")
                return await attempt(domain: domain, host: host, ip: ip, required: required, requirement: requirement,
                                     verify: false, dane: nil, options: options, mailFrom: mailFrom, recipients: recipients,
                                     message: message, smtputf8: smtputf8)
            case .refused(let why):
                return refusal(why, options)
            }
            let level = negotiated.level
            guard level >= required else {
                await connection.quit()
                return refusal("\(requirement) but \(mta) offers only \(level.rawValue): not sending (downgrade protection)", options)
            }
            if let why = Self.requireTLSShortfall(ehlo: ehlo, mta: mta, options: options) {
                await connection.quit()
                return .unfitForRequireTLS(why)
            }
            do { try await tlsLevels.raise(domain, to: negotiated.stored) } catch {
                logger.error("cannot record TLS level of \(domain): \(error)")
            }
            let tls = negotiated.tls
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
