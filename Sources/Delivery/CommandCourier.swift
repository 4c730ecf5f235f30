import Logging
import MailQueue
import SMTPProtocol

/// Routes `pipe` and `mda`: a command per recipient with the message on stdin (`PipeCourier`).
/// - `pipe`: the recipient's own `| command` alias (`Recipient.command`).
/// - `mda`: `[delivery] mda` for a local mailbox, with `$USER` and `$DOMAIN` set.
/// Exit 0 sent, 75 (or a timeout, a signal) temporary, anything else permanent (`PipeCourier.Outcome`).
public struct CommandCourier: Courier {
    public let pipe: PipeCourier
    /// `[delivery] mda`; nil when unset (an `mda` route then fails for now, naming the key).
    public let mda: String?
    let logger: Logger

    public init(pipe: PipeCourier = PipeCourier(), mda: String?, logger: Logger) {
        self.pipe = pipe
        self.mda = mda
        self.logger = logger
    }

    public func deliver(_ batch: DeliveryBatch) async -> [RecipientResult] {
        var results: [RecipientResult] = []
        for recipient in batch.recipients {
            results.append(await deliver(batch, to: recipient))
        }
        return results
    }

    func deliver(_ batch: DeliveryBatch, to recipient: QueuedMessage.Recipient) async -> RecipientResult {
        let address = recipient.address
        let command: String, environment: [String: String], label: String
        if batch.route == .mda {
            guard let mda else {
                return RecipientResult(address: address, outcome: .temporary, status: EnhancedStatusCode(4, 3, 5),
                                       reason: "queued for [delivery] mda, which is not set now")
            }
            let at = address.lastIndex(of: "@") ?? address.endIndex
            command = mda
            environment = ["USER": String(address[..<at]), "DOMAIN": QueuedMessage.domain(of: address)]
            label = "mda"
        } else {
            guard let own = recipient.command else {
                return RecipientResult(address: address, outcome: .permanent, status: EnhancedStatusCode(5, 3, 0),
                                       reason: "no command for this pipe recipient")
            }
            (command, environment, label) = (own, [:], "pipe")
        }
        switch await pipe.deliver(command: command, message: batch.message, sender: batch.mailFrom, recipient: address,
                                  originalRecipient: recipient.original, environment: environment) {
        case .delivered:
            logger.notice("delivered id=\(batch.messageID) to=<\(address)> \(label)=\"\(command)\"")
            return RecipientResult(address: address, outcome: .sent, status: EnhancedStatusCode(2, 0, 0),
                                   reason: "delivered to command")
        case .temporary(let why):
            return RecipientResult(address: address, outcome: .temporary, status: EnhancedStatusCode(4, 3, 0), reason: why)
        case .permanent(let why):
            return RecipientResult(address: address, outcome: .permanent, status: EnhancedStatusCode(5, 3, 0), reason: why)
        }
    }
}
