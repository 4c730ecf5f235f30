import NIOCore
import SMTPProtocol
import SMTPTransport

extension RemoteCourier {
    func transaction(_ connection: SMTPClientConnection, ehlo: SMTPClientReply, mta: String, tls: String?,
                     mailFrom: String, recipients: [String], message: ByteBuffer, smtputf8: Bool,
                     resetFirst: Bool = false, requireTLS: Bool = false) async throws -> [RecipientResult] {
        try await SMTPTransaction.run(connection, ehlo: ehlo, mta: mta, tls: tls, timeouts: timeouts, mailFrom: mailFrom,
                                      recipients: recipients, message: message, smtputf8: smtputf8, resetFirst: resetFirst,
                                      requireTLS: requireTLS)
    }
}

/// One mail transaction on an established, greeted session: used by `RemoteCourier` (MX hosts) and
/// `RelayCourier` (the smarthost) alike.
enum SMTPTransaction {
    /// The session taken from the pool did not accept `RSET` (or had gone away): nothing was sent for this
    /// message, so another session or a new connection may carry it.
    struct ResetFailed: Error, CustomStringConvertible {
        let reason: String
        var description: String { "RSET on a reused session failed: \(reason)" }
    }

    /// MAIL, RCPT…, DATA (RFC 5321 §3.3), pipelined when offered (RFC 2920); a result per recipient from its
    /// RCPT reply and the final reply after the message. `resetFirst` (a reused session) starts with `RSET`,
    /// in the same pipelined group when the server offers PIPELINING (RFC 2920 §3.1 allows it anywhere in a
    /// group), and throws `ResetFailed` when that fails.
    static func run(_ connection: SMTPClientConnection, ehlo: SMTPClientReply, mta: String, tls: String?,
                    timeouts: SMTPClientTimeouts, mailFrom: String, recipients: [String], message: ByteBuffer,
                    smtputf8: Bool, resetFirst: Bool = false, requireTLS: Bool = false) async throws -> [RecipientResult] {
        // On the connection's event loop: every reply awaited below resumes there, not on the global pool.
        try await withTaskExecutorPreference(EventLoopTaskExecutor.of(connection.channel.eventLoop)) {
            try await exchange(connection, ehlo: ehlo, mta: mta, tls: tls, timeouts: timeouts, mailFrom: mailFrom,
                               recipients: recipients, message: message, smtputf8: smtputf8, resetFirst: resetFirst,
                               requireTLS: requireTLS)
        }
    }

    private static func exchange(_ connection: SMTPClientConnection, ehlo: SMTPClientReply, mta: String, tls: String?,
                                 timeouts: SMTPClientTimeouts, mailFrom: String, recipients: [String], message: ByteBuffer,
                                 smtputf8: Bool, resetFirst: Bool, requireTLS: Bool) async throws -> [RecipientResult] {
        let source = connection.channel.localAddress?.ipAddress
        func result(_ address: String, _ reply: SMTPClientReply) -> RecipientResult {
            var r = RecipientResult(address: address, reply: reply, remoteMTA: mta, tls: tls)
            r.sourceAddress = source
            return r
        }
        func all(_ outcome: RecipientResult.Outcome, _ status: EnhancedStatusCode, _ reason: String) -> [RecipientResult] {
            RecipientResult.all(recipients, outcome, status, reason, remoteMTA: mta, tls: tls)
        }
        let extensions = ehlo.extensions
        let pipelining = extensions["PIPELINING"] != nil
        if resetFirst && !pipelining { try await reset(connection, timeouts: timeouts, send: true) }
        let size = message.readableBytes
        var parameters = ""
        if let limit = extensions["SIZE"] {
            if let max = Int(limit), max > 0, size > max {
                await connection.quit()
                return all(.permanent, EnhancedStatusCode(5, 3, 4), "message of \(size) bytes exceeds the limit of \(max) bytes of \(mta)")
            }
            parameters += " SIZE=\(size)"
        }
        let eightBit = message.withUnsafeReadableBytes(ByteScan.containsHighBit)
        if eightBit && extensions["8BITMIME"] != nil { parameters += " BODY=8BITMIME" }
        let needsUTF8 = smtputf8 || !Self.isASCII(mailFrom) || !recipients.allSatisfy(Self.isASCII)
        if needsUTF8 {
            guard extensions["SMTPUTF8"] != nil else {
                await connection.quit()
                return all(.permanent, EnhancedStatusCode(5, 6, 7), "\(mta) does not support SMTPUTF8, which this message needs (RFC 6531)")
            }
            parameters += " SMTPUTF8"
        }
        // RFC 8689 §4.2.1: the caller checked that the server advertised REQUIRETLS over verified TLS.
        if requireTLS { parameters += " REQUIRETLS" }
        let mailCommand = "MAIL FROM:<\(mailFrom)>\(parameters)"
        let rcptCommands = recipients.map { "RCPT TO:<\($0)>" }
        let t = timeouts
        var mailReply: SMTPClientReply
        var rcptReplies: [SMTPClientReply] = []
        var dataReply: SMTPClientReply?
        if pipelining {
            try await connection.send((resetFirst ? ["RSET"] : []) + [mailCommand] + rcptCommands + ["DATA"])
            if resetFirst { try await reset(connection, timeouts: timeouts, send: false) }
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

    /// Every byte below 0x80 (the same answer as `allSatisfy(\.isASCII)` over Characters, without building them).
    static func isASCII(_ text: String) -> Bool { text.utf8.allSatisfy { $0 < 0x80 } }

    /// The reply to `RSET`, sent first when `send` (a server without PIPELINING; else it went out with the
    /// pipelined group). Any failure is `ResetFailed`: nothing of this message was sent yet.
    static func reset(_ connection: SMTPClientConnection, timeouts: SMTPClientTimeouts, send: Bool) async throws {
        let reply: SMTPClientReply
        do {
            if send { try await connection.send(["RSET"]) }
            reply = try await connection.readReply(timeout: timeouts.mailAndRcpt, waitingFor: "the reply to RSET")
        } catch {
            throw ResetFailed(reason: "\(error)")
        }
        guard reply.code == 250 else { throw ResetFailed(reason: "\(reply)") }
    }
}
