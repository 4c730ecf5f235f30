import Foundation
import Logging
import MailQueue
import NIOCore
import SMTPProtocol
import SMTPTransport

/// Local delivery through LMTP (RFC 2033), e.g. to Dovecot's `lmtp` service, instead of writing Maildirs:
/// `[delivery] lmtp = "127.0.0.1:24"`. LMTP is SMTP with `LHLO` and one reply per accepted recipient after
/// the final dot, so each local recipient gets its own result (a full mailbox defers only that one).
public struct LMTPCourier: Courier {
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

    /// One LMTP transaction for the batch's recipients; a result per recipient, in order.
    public func deliver(_ batch: DeliveryBatch) async -> [RecipientResult] {
        let relay = "lmtp \(host):\(port)"
        let addresses = batch.addresses, mailFrom = batch.mailFrom, body = batch.message
        func all(_ outcome: RecipientResult.Outcome, _ status: EnhancedStatusCode, _ reason: String) -> [RecipientResult] {
            RecipientResult.all(addresses, outcome, status, reason)
        }
        let connection: SMTPClientConnection
        do {
            connection = try await SMTPClientConnection.connect(ip: host, port: port, timeouts: timeouts, logger: logger)
        } catch {
            return all(.temporary, EnhancedStatusCode(4, 4, 1), "cannot connect to \(relay): \(error)")
        }
        defer { Task { await connection.close() } }
        do {
            let greeting = try await connection.readReply(timeout: timeouts.greeting, waitingFor: "the LMTP greeting")
            guard greeting.code == 220 else { return Self.fromReply(greeting, addresses, relay) }
            let lhlo = try await connection.command("LHLO \(hostname)")
            guard lhlo.code == 250 else { return Self.fromReply(lhlo, addresses, relay) }
            let mail = try await connection.command("MAIL FROM:<\(mailFrom)>")
            guard mail.code == 250 else { return Self.fromReply(mail, addresses, relay) }
            var results: [RecipientResult?] = Array(repeating: nil, count: addresses.count)
            var accepted: [Int] = []
            for (i, address) in addresses.enumerated() {
                let reply = try await connection.command("RCPT TO:<\(address)>")
                if reply.code == 250 || reply.code == 251 { accepted.append(i) } else {
                    results[i] = Self.fromReply(reply, [address], relay)[0]
                }
            }
            if !accepted.isEmpty {
                let data = try await connection.command("DATA")
                guard data.code == 354 else {
                    for i in accepted { results[i] = Self.fromReply(data, [addresses[i]], relay)[0] }
                    return results.map { $0! }
                }
                try await connection.sendMessage(body)
                // RFC 2033 §4.2: one reply per accepted recipient, in RCPT order.
                for i in accepted {
                    let reply = try await connection.readReply(timeout: timeouts.dataTermination, waitingFor: "the LMTP reply for \(addresses[i])")
                    results[i] = Self.fromReply(reply, [addresses[i]], relay)[0]
                }
            }
            await connection.quit()
            return results.map { $0! }
        } catch {
            return all(.temporary, EnhancedStatusCode(4, 4, 2), "LMTP conversation with \(relay) failed: \(error)")
        }
    }

    static func fromReply(_ reply: SMTPClientReply, _ addresses: [String], _ relay: String = "") -> [RecipientResult] {
        addresses.map { RecipientResult(address: $0, reply: reply) }
    }
}
