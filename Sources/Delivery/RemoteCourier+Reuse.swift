import NIOCore
import SMTPProtocol
import SMTPTransport

extension RemoteCourier {
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
                await messageSlot(session.provider)
                let results = paced(try await transaction(session.connection, ehlo: session.ehlo, mta: session.mta,
                                                          tls: session.tls, mailFrom: mailFrom, recipients: recipients,
                                                          message: message, smtputf8: smtputf8),
                                    session.provider)
                session.transactions += 1
                await finish(session, domain: domain)
                return results
            } catch {
                await session.connection.close()
                return RecipientResult.all(recipients, .temporary, EnhancedStatusCode(4, 4, 2), "\(session.mta): \(error)",
                                           remoteMTA: session.mta, tls: session.tls)
            }
        }
        return nil
    }

    /// After a transaction: park the session for the next message, or QUIT.
    func finish(_ session: SMTPConnectionPool.Session, domain: String) async {
        if !(await pool.park(session, for: domain)) { await session.connection.quit() }
    }
}
