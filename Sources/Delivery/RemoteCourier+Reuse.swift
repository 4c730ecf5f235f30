import NIOCore
import SMTPProtocol
import SMTPTransport

extension RemoteCourier {
    /// A parked session to `domain`, reset with RSET (pipelined with the transaction), carries this message
    /// too. Nil when there is none or it turned out to be unusable before MAIL (then the normal path runs).
    func reuse(domain: String, mailFrom: String, recipients: [String], message: ByteBuffer, smtputf8: Bool) async
        -> [RecipientResult]? {
        while var session = await pool.take(domain) {
            logger.debug("reusing the connection to \(session.mta) for \(domain)")
            do {
                await messageSlot(session.provider)
                let results = paced(try await transaction(session.connection, ehlo: session.ehlo, mta: session.mta,
                                                          tls: session.tls, mailFrom: mailFrom, recipients: recipients,
                                                          message: message, smtputf8: smtputf8, resetFirst: true),
                                    session.provider)
                session.transactions += 1
                await finish(session, domain: domain)
                return results
            } catch let failed as SMTPTransaction.ResetFailed {
                // Gone while parked, most likely: nothing was sent; try the next session or a new connection.
                logger.debug("\(session.mta): \(failed)")
                await session.connection.close()
                continue
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
