import Directory
import Foundation
import Logging
import MailQueue
import NIOCore
import NIOPosix

/// Delivers queued messages to local mailboxes (`<data_dir>/mail/<domain>/<user>/`, Maildir).
///
/// Until the remote courier exists (issue 4), recipients in other domains stay `pending` in the
/// queue, with a log line saying so; nothing is dropped.
public actor LocalDeliveryAgent {
    let spool: any Spool
    let mailRoot: String
    let hostname: String
    let isLocalDomain: @Sendable (String) -> Bool
    let logger: Logger

    public init(spool: any Spool, mailRoot: String, hostname: String,
                isLocalDomain: @escaping @Sendable (String) -> Bool, logger: Logger) {
        self.spool = spool
        self.mailRoot = mailRoot
        self.hostname = hostname
        self.isLocalDomain = isLocalDomain
        self.logger = logger
    }

    /// The Maildir for `user@domain`.
    public func maildir(for address: String) -> String? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let user = address[..<at], domain = address[address.index(after: at)...].lowercased()
        guard !user.isEmpty, !user.contains("/"), !domain.contains("/"), user != ".", user != "..",
              domain != ".", domain != ".." else { return nil }
        return "\(mailRoot)/\(domain)/\(user)"
    }

    /// Delivers every pending local recipient of one queued message.
    public func deliver(id: String) async {
        let meta: QueuedMessage, body: ByteBuffer
        do {
            (meta, body) = try await spool.load(id: id)
        } catch {
            logger.error("queue \(id): cannot load: \(error)")
            return
        }
        var updated = meta
        var changed = false
        for (i, rcpt) in meta.recipients.enumerated() where rcpt.state == .pending {
            let domain = rcpt.address.split(separator: "@").last.map(String.init) ?? ""
            guard isLocalDomain(domain) else {
                if rcpt.attempts == 0 {
                    logger.notice("queue \(id): to=<\(rcpt.address)> remote delivery is not available yet; kept in the queue")
                    updated.recipients[i].attempts = 1
                    updated.recipients[i].lastReply = "remote delivery not implemented"
                    changed = true
                }
                continue
            }
            guard let dir = maildir(for: rcpt.address) else {
                updated.recipients[i].state = .failed
                updated.recipients[i].lastReply = "invalid local address"
                changed = true
                continue
            }
            do {
                let file = try await Self.write(body, returnPath: meta.mailFrom, to: rcpt.address, maildir: dir,
                                                hostname: hostname, queueID: meta.id)
                updated.recipients[i].state = .sent
                updated.recipients[i].attempts += 1
                updated.recipients[i].lastReply = "delivered to maildir"
                changed = true
                logger.info("delivered id=\(id) to=<\(rcpt.address)> maildir=\(dir) file=\(file)")
            } catch {
                updated.recipients[i].attempts += 1
                updated.recipients[i].lastReply = "\(error)"
                changed = true
                logger.error("deferred id=\(id) to=<\(rcpt.address)>: \(error)")
            }
        }
        do {
            if updated.isDone {
                try await spool.remove(id: id)
            } else if changed {
                try await spool.update(updated)
            }
        } catch {
            logger.error("queue \(id): cannot update: \(error)")
        }
    }

    nonisolated func maildirPath(for address: String) -> String? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let user = address[..<at], domain = address[address.index(after: at)...].lowercased()
        guard !user.isEmpty, !user.contains("/"), !domain.contains("/"), user != ".", user != "..",
              domain != ".", domain != ".." else { return nil }
        return "\(mailRoot)/\(domain)/\(user)"
    }

    nonisolated static func write(_ body: ByteBuffer, returnPath: String, to address: String, maildir: String,
                                  hostname: String, queueID: String? = nil) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive {
            try MaildirWriter.deliver(body, returnPath: returnPath, deliveredTo: address, maildir: maildir,
                                      hostname: hostname, queueID: queueID)
        }
    }

    /// Delivers everything still pending (after a restart).
    public func resumeAll() async {
        let items = (try? await spool.list()) ?? []
        if !items.isEmpty { logger.info("queue: \(items.count) message(s) found at start, resuming delivery") }
        for item in items where !item.isDone {
            await deliver(id: item.id)
        }
    }
}
