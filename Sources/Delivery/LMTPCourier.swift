import Foundation
import Logging
import MailQueue
import NIOCore
import SMTPTransport

/// Local delivery through LMTP (RFC 2033), e.g. to Dovecot's `lmtp` service, instead of writing Maildirs:
/// `[delivery] lmtp = "127.0.0.1:24"`. LMTP is SMTP with `LHLO` and one reply per accepted recipient after
/// the final dot, so each local recipient gets its own result (a full mailbox defers only that one).
public struct LMTPCourier: Sendable {
    public let host: String
    public let port: Int
    public let hostname: String
    public let timeouts: SMTPClientTimeouts
    let logger: Logger

    public init(host: String, port: Int, hostname: String,
                timeouts: SMTPClientTimeouts = .all(.seconds(60)), logger: Logger) {
        self.host = host
        self.port = port
        self.hostname = hostname
        self.timeouts = timeouts
        self.logger = logger
    }

    /// One LMTP transaction for `addresses`; a result per address, in order.
    public func deliver(_ meta: QueuedMessage, body: ByteBuffer, addresses: [String], mailFrom: String) async -> [RecipientResult] {
        let relay = "lmtp \(host):\(port)"
        func all(_ outcome: RecipientResult.Outcome, _ status: String, _ reply: String) -> [RecipientResult] {
            addresses.map { RecipientResult(address: $0, outcome: outcome, status: status, reply: reply) }
        }
        let connection: SMTPClientConnection
        do {
            connection = try await SMTPClientConnection.connect(ip: host, port: port, timeouts: timeouts, logger: logger)
        } catch {
            return all(.temporary, "4.4.1", "cannot connect to \(relay): \(error)")
        }
        defer { Task { await connection.close() } }
        do {
            let greeting = try await connection.readReply(timeout: timeouts.greeting, waitingFor: "the LMTP greeting")
            guard greeting.code == 220 else { return Self.fromReply(greeting, addresses, whole: true) }
            let lhlo = try await connection.command("LHLO \(hostname)")
            guard lhlo.code == 250 else { return Self.fromReply(lhlo, addresses, whole: true) }
            let mail = try await connection.command("MAIL FROM:<\(mailFrom)>")
            guard mail.code == 250 else { return Self.fromReply(mail, addresses, whole: true) }
            var results: [RecipientResult?] = Array(repeating: nil, count: addresses.count)
            var accepted: [Int] = []
            for (i, address) in addresses.enumerated() {
                let reply = try await connection.command("RCPT TO:<\(address)>")
                if reply.code == 250 || reply.code == 251 { accepted.append(i) } else {
                    results[i] = Self.fromReply(reply, [address], whole: false)[0]
                }
            }
            if !accepted.isEmpty {
                let data = try await connection.command("DATA")
                guard data.code == 354 else {
                    for i in accepted { results[i] = Self.fromReply(data, [addresses[i]], whole: false)[0] }
                    return results.map { $0! }
                }
                try await connection.sendMessage(body)
                // RFC 2033 §4.2: one reply per accepted recipient, in RCPT order.
                for i in accepted {
                    let reply = try await connection.readReply(timeout: timeouts.dataTermination, waitingFor: "the LMTP reply for \(addresses[i])")
                    results[i] = Self.fromReply(reply, [addresses[i]], whole: false)[0]
                }
            }
            await connection.quit()
            return results.map { $0! }
        } catch {
            return all(.temporary, "4.4.2", "LMTP conversation with \(relay) failed: \(error)")
        }
    }

    static func fromReply(_ reply: SMTPClientReply, _ addresses: [String], whole: Bool) -> [RecipientResult] {
        let outcome: RecipientResult.Outcome = reply.code < 300 ? .sent : (reply.isPermanent ? .permanent : .temporary)
        let status = reply.enhancedStatus ?? (reply.code < 300 ? "2.0.0" : reply.isPermanent ? "5.0.0" : "4.0.0")
        return addresses.map { RecipientResult(address: $0, outcome: outcome, status: status, reply: reply.description) }
    }
}
