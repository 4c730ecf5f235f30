import DANE
import NIOConcurrencyHelpers
import SMTPProtocol
import SMTPTransport

extension RemoteCourier {
    /// What STARTTLS gave one connection.
    enum TLSNegotiation {
        /// Go on: `level` is what this session counts as (DANE-verified counts as verified), `stored` what
        /// the domain's record may be raised to (DANE proves nothing about the CA check: unverified), `tls`
        /// the text for results and the log line (nil: plaintext).
        case secured(level: TLSLevel, stored: TLSLevel, tls: String?)
        /// The CA check failed where unverified TLS is allowed: connect again without it.
        case retryUnverified(String)
        /// Not this host: the connection is closed, the text says why.
        case refused(String)
    }

    /// STARTTLS when offered (RFC 3207); mandatory, and checked against the TLSA records, when `dane` is
    /// `.required` (RFC 7672 §2.2, §3). On success `ehlo` is the reply to the EHLO sent over TLS.
    func negotiateTLS(_ connection: SMTPClientConnection, ehlo: inout SMTPClientReply, esmtp: Bool, host: String,
                      mta: String, required: TLSLevel, verify: Bool, dane: DANEPolicy?,
                      referenceNames: [String] = [], report: TLSReportSession) async throws -> TLSNegotiation {
        var daneName: String?, usable: [TLSARecord] = []
        if case .required(let name, let records, _)? = dane { (daneName, usable) = (name, records) }
        guard esmtp && ehlo.extensions["STARTTLS"] != nil else {
            await report.noStartTLS()
            if let daneName {
                await connection.quit()
                return .refused("\(mta) does not offer STARTTLS, but \(daneName) has TLSA records: not sending in plaintext (RFC 7672 §2.2)")
            }
            return .secured(level: .plain, stored: .plain, tls: nil)
        }
        let reply = try await connection.command("STARTTLS")
        guard reply.code == 220 else {
            await report.noStartTLS()
            guard required == .plain && daneName == nil else {
                await connection.quit()
                return .refused("STARTTLS refused: \(reply)" + (daneName.map { " (TLS is mandatory: \($0) has TLSA records)" } ?? ""))
            }
            return .secured(level: .plain, stored: .plain, tls: nil)
        }
        let version: String
        let result: TLSNegotiation
        if let daneName {
            let outcome = NIOLockedValueBox<DANEVerification?>(nil)
            do {
                if usable.isEmpty {
                    // Only unusable records (e.g. PKIX-EE): TLS is still mandatory, but unauthenticated (§2.2).
                    version = try await connection.startTLS(context: opportunisticContext, serverHostname: host)
                    logger.notice("the TLSA records at \(daneName) are all unusable for SMTP: TLS with \(mta) without authentication")
                    result = .secured(level: .tlsUnverified, stored: .tlsUnverified, tls: "\(version) unverified dane=unusable")
                    await report.established(verified: false)
                } else {
                    version = try await connection.startTLS(
                        context: daneContext, serverHostname: host,
                        verification: Self.daneVerification(
                            records: usable, host: host,
                            referenceNames: referenceNames.isEmpty ? [Self.bare(host)] : referenceNames, outcome: outcome))
                    if case .verified(let record)? = outcome.withLockedValue({ $0 }) {
                        logger.info("DANE: \(mta) matches TLSA \(record.parameters) at \(daneName)")
                    }
                    result = .secured(level: .tlsVerified, stored: .tlsUnverified, tls: "\(version) dane=verified")
                    await report.established(verified: true)
                }
            } catch {
                await connection.close()
                await report.handshakeFailed(error, verified: true, willRetry: false)
                if case .failed(let why)? = outcome.withLockedValue({ $0 }) { return .refused("DANE: \(why)") }
                return .refused("TLS with \(mta) failed (TLSA records at \(daneName)): \(error)")
            }
        } else {
            do {
                version = try await connection.startTLS(context: verify ? verifyingContext : opportunisticContext,
                                                        serverHostname: verify ? host : nil)
            } catch {
                await connection.close()
                let retry = verify && required < .tlsVerified
                await report.handshakeFailed(error, verified: verify, willRetry: retry)
                if retry { return .retryUnverified("\(error)") }
                return .refused("TLS: \(error)")
            }
            await report.established(verified: verify)
            let level: TLSLevel = verify ? .tlsVerified : .tlsUnverified
            result = .secured(level: level, stored: level, tls: "\(version) \(verify ? "verified" : "unverified")")
        }
        ehlo = try await connection.command("EHLO \(hostname)")
        guard ehlo.isPositive else {
            await connection.quit()
            return .refused("EHLO after STARTTLS: \(ehlo)")
        }
        return result
    }
}
