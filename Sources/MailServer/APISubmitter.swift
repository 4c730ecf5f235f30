import Foundation
import HTTPAPI
import MailQueue
import NIOCore
import SMTPProtocol
import SMTPTransport

/// The API's way into the queue: the same acceptance as an authenticated SMTP submission (recipient checks,
/// alias expansion, DKIM signing, fsync before the answer), with the key's id as the authenticated identity.
struct APISubmitter: MessageSubmitting {
    let delegate: ServerDelegate
    let policy: ServerPolicy
    let tls: Bool

    func submit(mailFrom: String, recipients: [String], message: [UInt8], keyID: String,
                clientAddress: String) async -> Result<String, APIError> {
        await submit(mailFrom: mailFrom, recipients: recipients, message: message, keyID: keyID,
                     clientAddress: clientAddress, requireTLS: false)
    }

    func submit(mailFrom: String, recipients: [String], message: [UInt8], keyID: String,
                clientAddress: String, requireTLS: Bool) async -> Result<String, APIError> {
        let sender: SMTPProtocol.Mailbox
        do { sender = try SMTPProtocol.Mailbox.parse(mailFrom) } catch {
            return .failure(.invalid("Field \"from\": \(error.lines.joined(separator: " "))"))
        }
        var paths: [ForwardPath] = []
        for (i, recipient) in recipients.enumerated() {
            let path: ForwardPath
            do { path = .mailbox(try SMTPProtocol.Mailbox.parse(recipient)) } catch {
                return .failure(.invalid("Recipient \(i + 1) <\(recipient)>: \(error.lines.joined(separator: " "))"))
            }
            if let refusal = policy.checkRecipient(path, authenticatedUser: "api:\(keyID)") {
                return .failure(.invalid("Recipient <\(recipient)> refused: \(refusal.code) \(refusal.lines.joined(separator: " "))"))
            }
            paths.append(path)
        }
        let smtputf8 = !message.allSatisfy { $0 < 128 } || !mailFrom.utf8.allSatisfy { $0 < 128 }
            || recipients.contains { !$0.utf8.allSatisfy { $0 < 128 } }
        let envelope = Envelope(mailFrom: .mailbox(sender), recipients: paths,
                                parameters: MailParameters(size: message.count, body: .eightBitMIME, smtputf8: smtputf8,
                                                           requireTLS: requireTLS),
                                clientName: "api", authenticatedUser: "api:\(keyID)", protocolName: tls ? "HTTPS" : "HTTP")
        let connection = ConnectionInfo(id: "api", listener: .submission, remoteAddress: clientAddress,
                                        localAddress: "api", tlsVersion: nil)
        switch await delegate.accept(envelope: envelope, message: ByteBuffer(bytes: message), connection: connection,
                                     source: "api") {
        case .success(let id): return .success(id)
        case .failure(let reply):
            if reply.code == 452 || reply.code == 451 {
                return .failure(.unavailable("The server cannot queue the message now (\(reply.code) \(reply.lines.joined(separator: " "))); try again later"))
            }
            return .failure(.invalid("Refused: \(reply.code) \(reply.lines.joined(separator: " "))"))
        }
    }

    func newMessageID() -> String { QueuedMessage.newID() }
}
