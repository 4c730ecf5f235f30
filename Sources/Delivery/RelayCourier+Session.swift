import Foundation
import SMTPProtocol
import SMTPTransport

extension RelayCourier {
    /// A session ready for MAIL: TLS up, EHLO answered, logged in.
    struct Session {
        var connection: SMTPClientConnection
        var ehlo: SMTPClientReply
        var mta: String
        var tls: String?
    }

    /// Why a session could not be opened: try the next address, or a result for every recipient.
    enum Refusal: Error {
        case tryNext(String)
        case final(EnhancedStatusCode, String)
    }

    /// One connection to the relay: open (TLS, EHLO, AUTH), the transaction, QUIT.
    func session(ip: String, _ batch: DeliveryBatch) async -> RemoteCourier.Attempt {
        let session: Session
        switch await open(ip: ip) {
        case .success(let s): session = s
        case .failure(.tryNext(let why)): return .tryNext(why)
        case .failure(.final(let status, let why)):
            return .done(RecipientResult.all(batch.addresses, .temporary, status, why, remoteMTA: "\(host) [\(ip)]"))
        }
        // RFC 8689 §4.2.1: the smarthost's TLS is always verified; it must also take REQUIRETLS on.
        if let why = RemoteCourier.requireTLSShortfall(ehlo: session.ehlo, mta: session.mta, options: batch.options) {
            await session.connection.quit()
            return .done(RemoteCourier.requireTLSFailure(batch.addresses, why))
        }
        do {
            let results = try await SMTPTransaction.run(session.connection, ehlo: session.ehlo, mta: session.mta,
                                                        tls: session.tls, timeouts: timeouts, mailFrom: batch.mailFrom,
                                                        recipients: batch.addresses, message: batch.message,
                                                        smtputf8: batch.smtputf8, requireTLS: batch.options.requireTLS)
            await session.connection.quit()
            return .done(results)
        } catch {
            await session.connection.close()
            return .done(RecipientResult.all(batch.addresses, .temporary, .init(4, 4, 2), "\(session.mta): \(error)",
                                             remoteMTA: session.mta, tls: session.tls))
        }
    }

    /// Connect, TLS (implicit, or STARTTLS, which is required), EHLO, AUTH when credentials are given.
    func open(ip: String) async -> Result<Session, Refusal> {
        let mta = "\(host) [\(ip)]"
        let connection: SMTPClientConnection
        do {
            connection = try await SMTPClientConnection.connect(ip: ip, port: port, timeouts: timeouts, group: group,
                                                                source: outbound.source(for: ip), logger: logger)
        } catch {
            return .failure(.tryNext("\(error)"))
        }
        do {
            var tlsVersion: String?
            if security == .tls { tlsVersion = try await connection.startTLS(context: context, serverHostname: sniName) }
            let greeting = try await connection.readReply(timeout: timeouts.greeting, waitingFor: "the smarthost's greeting")
            guard greeting.code == 220 else {
                await connection.quit()
                return .failure(.tryNext("greeting: \(greeting)"))
            }
            var ehlo = try await connection.command("EHLO \(hostname)")
            guard ehlo.isPositive else {
                await connection.quit()
                return .failure(.tryNext("EHLO: \(ehlo)"))
            }
            if security == .starttls {
                guard ehlo.extensions["STARTTLS"] != nil else {
                    await connection.quit()
                    return .failure(.final(.init(4, 7, 0), "smarthost \(mta) does not offer STARTTLS; not sending without TLS"
                                                 + " (relay_tls = \"tls\" is for port 465)"))
                }
                let reply = try await connection.command("STARTTLS")
                guard reply.code == 220 else {
                    await connection.quit()
                    return .failure(.tryNext("STARTTLS refused: \(reply)"))
                }
                tlsVersion = try await connection.startTLS(context: context, serverHostname: sniName)
                ehlo = try await connection.command("EHLO \(hostname)")
                guard ehlo.isPositive else {
                    await connection.quit()
                    return .failure(.tryNext("EHLO after STARTTLS: \(ehlo)"))
                }
            }
            if let credentials, let refusal = try await authenticate(connection, ehlo: ehlo, credentials) {
                await connection.quit()
                return .failure(.final(.init(4, 7, 8), "smarthost \(mta) refused the login of \(credentials.user): \(refusal)"))
            }
            return .success(Session(connection: connection, ehlo: ehlo, mta: mta, tls: tlsVersion.map { "\($0) verified" }))
        } catch {
            await connection.close()
            return .failure(.tryNext("\(error)"))
        }
    }

    /// For `apus check`: connects, logs in and quits. Nil when that worked, else what went wrong.
    public func checkLogin() async -> String? {
        var ips = [host]
        if !isIPAddress {
            switch await dns.addresses(host) {
            case .success(let list): ips = outbound.usable(list).map(\.description)
            case .failure(let failure): return "address lookup for \(host) failed: \(failure)"
            }
        }
        var last = "no address"
        for ip in ips.prefix(RemoteCourier.maxAddressesPerHost) {
            switch await open(ip: ip) {
            case .success(let session):
                await session.connection.quit()
                return nil
            case .failure(.tryNext(let why)): last = "\(host) [\(ip)]:\(port): \(why)"
            case .failure(.final(_, let why)): return why
            }
        }
        return last
    }

    /// SNI and the name checked in the certificate: `relay_host`; nil for an IP (then its IP SAN is checked).
    var sniName: String? { isIPAddress ? nil : host }

    /// AUTH PLAIN (RFC 4616), or LOGIN when only that is offered. Nil when accepted, else the refusal.
    func authenticate(_ connection: SMTPClientConnection, ehlo: SMTPClientReply, _ c: Credentials) async throws -> String? {
        let offered = Set((ehlo.extensions["AUTH"] ?? "").uppercased().split(separator: " ").map(String.init))
        func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
        if offered.contains("PLAIN") || !offered.contains("LOGIN") {
            let reply = try await connection.command("AUTH PLAIN " + b64("\u{0}\(c.user)\u{0}\(c.password)"))
            return reply.code == 235 ? nil : "\(reply)"
        }
        let start = try await connection.command("AUTH LOGIN")
        guard start.code == 334 else { return "\(start)" }
        let user = try await connection.secretCommand(b64(c.user))
        guard user.code == 334 else { return "\(user)" }
        let done = try await connection.secretCommand(b64(c.password))
        return done.code == 235 ? nil : "\(done)"
    }
}
