import Logging
import MailQueue
import NIOPosix
import SMTPProtocol

/// Route `maildir`: each recipient's message written into `<mail root>/<domain>/<user>/new` (`MaildirWriter`,
/// on NIO's thread pool). A write that fails (disk full, permissions) is temporary; an address that cannot
/// name a Maildir (a `/` in it, `..`) is permanent.
public struct MaildirCourier: Courier {
    public let mailRoot: String
    public let hostname: String
    let logger: Logger

    public init(mailRoot: String, hostname: String, logger: Logger) {
        self.mailRoot = mailRoot
        self.hostname = hostname
        self.logger = logger
    }

    public func deliver(_ batch: DeliveryBatch) async -> [RecipientResult] {
        var results: [RecipientResult] = []
        for address in batch.addresses {
            results.append(await deliver(batch, to: address))
        }
        return results
    }

    func deliver(_ batch: DeliveryBatch, to address: String) async -> RecipientResult {
        guard let dir = Self.maildir(for: address, root: mailRoot) else {
            return RecipientResult(address: address, outcome: .permanent, status: EnhancedStatusCode(5, 1, 3),
                                   reason: "invalid local address")
        }
        let (message, sender, hostname, id) = (batch.message, batch.mailFrom, hostname, batch.messageID)
        do {
            let file = try await NIOThreadPool.singleton.runIfActive {
                try MaildirWriter.deliver(message, returnPath: sender, deliveredTo: address, maildir: dir,
                                          hostname: hostname, queueID: id)
            }
            logger.info("delivered id=\(id) to=<\(address)> maildir=\(dir) file=\(file)")
            return RecipientResult(address: address, outcome: .sent, status: EnhancedStatusCode(2, 0, 0),
                                   reason: "delivered to maildir")
        } catch {
            return RecipientResult(address: address, outcome: .temporary, status: EnhancedStatusCode(4, 3, 0),
                                   reason: "maildir write failed: \(error)")
        }
    }

    /// `<root>/<domain>/<user>`, or nil for an address that cannot be a directory name.
    public static func maildir(for address: String, root: String) -> String? {
        guard let at = address.utf8.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        let user = address[..<at], domain = address[address.index(after: at)...].lowercased()
        guard !user.isEmpty, !user.contains("/"), !domain.contains("/"), user != ".", user != "..",
              domain != ".", domain != ".." else { return nil }
        return "\(root)/\(domain)/\(user)"
    }
}
