import Config
import Directory
import Foundation
import Logging
import MailMessage
import MailQueue
import NIOCore
import NIOPosix
import SMTPProtocol
import SMTPTransport

/// Credentials and acceptance for all listeners.
final class ServerDelegate: SMTPServerDelegate {
    let config: ApusConfig
    let directory: DirectoryHolder
    let policy: ServerPolicy
    let spool: any Spool
    let authLimiter: AuthLimiter
    let hashing = WorkLimiter(limit: 2)
    let delivered: @Sendable (String) -> Void
    let logger: Logger

    init(config: ApusConfig, directory: DirectoryHolder, policy: ServerPolicy, spool: any Spool,
         delivered: @escaping @Sendable (String) -> Void, logger: Logger) {
        self.config = config
        self.directory = directory
        self.policy = policy
        self.spool = spool
        self.authLimiter = AuthLimiter(maxFailures: config.limits.maxAuthFailures,
                                       window: TimeInterval(config.limits.authFailureWindow.seconds))
        self.delivered = delivered
        self.logger = logger
    }

    func authenticate(username: String, password: String, connection: ConnectionInfo) async -> AuthOutcome {
        if authLimiter.isBlocked(connection.remoteAddress) { return .blocked }
        let dir = directory.current
        let result: AuthResult
        do {
            result = try await hashing.run {
                try await NIOThreadPool.singleton.runIfActive { dir.authenticate(username: username, password: password) }
            }
        } catch {
            logger.error("AUTH check failed: \(error)")
            return .temporaryFailure
        }
        if let address = result.address { return .success(user: address) }
        authLimiter.recordFailure(connection.remoteAddress)
        return .failure
    }

    func accept(envelope: Envelope, message: ByteBuffer, connection: ConnectionInfo) async -> Result<String, SMTPReply> {
        let id = QueuedMessage.newID()
        let received = ReceivedHeader(clientName: envelope.clientName, clientAddress: connection.remoteAddress,
                                      hostname: config.hostname, protocolName: envelope.protocolName, queueID: id,
                                      tlsVersion: connection.tlsVersion, date: Date()).rendered
        var full = ByteBuffer()
        full.reserveCapacity(received.utf8.count + message.readableBytes)
        full.writeString(received)
        var body = message
        full.writeBuffer(&body)
        let mailFrom = envelope.mailFrom.mailbox.map { "\($0.encodedLocalPart)@\($0.domain.lookupKey)" } ?? ""
        let recipients = envelope.recipients.map {
            QueuedMessage.Recipient(address: policy.resolve($0), original: Self.plain($0))
        }
        let meta = QueuedMessage(id: id, mailFrom: mailFrom, recipients: recipients, receivedAt: Date(),
                                 clientAddress: connection.remoteAddress, clientName: envelope.clientName,
                                 authenticatedUser: envelope.authenticatedUser,
                                 smtputf8: envelope.parameters.smtputf8, size: full.readableBytes)
        do {
            try await spool.store(meta, message: full)
        } catch {
            logger.error("queue write failed for message from \(connection.remoteAddress): \(error)")
            return .failure(.c451LocalError)
        }
        logger.info("queued id=\(id) from=<\(mailFrom)> to=\(recipients.map { "<\($0.address)>" }.joined(separator: ",")) size=\(full.readableBytes) client=\(connection.remoteAddress) helo=\(envelope.clientName) tls=\(connection.tlsVersion ?? "none") auth=\(envelope.authenticatedUser ?? "-") listener=\(connection.listener.rawValue)")
        delivered(id)
        return .success(id)
    }

    static func plain(_ path: ForwardPath) -> String {
        switch path {
        case .postmaster: return "Postmaster"
        case .mailbox(let m): return m.description
        }
    }
}
