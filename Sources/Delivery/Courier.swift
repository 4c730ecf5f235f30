import MailQueue
import NIOCore

/// The seam between the queue runner and whatever carries mail on (STYLE.md habit 7). One protocol for
/// every route: `MaildirCourier`, `LMTPCourier`, `CommandCourier` (MDA and `| command` aliases) and
/// `RemoteCourier` (MX hosts or the smarthost); tests use their own. A delivery returns one typed result
/// per recipient, each saying whether it was sent, failed for now (retry) or failed for good (bounce), which
/// keeps the runner's logic trivial.
public protocol Courier: Sendable {
    /// Delivers `batch.message` to every recipient of `batch`. Returns exactly one result per recipient, in
    /// the same order.
    func deliver(_ batch: DeliveryBatch) async -> [RecipientResult]
}

/// The recipients of one message that go the same way in one attempt: one route, one envelope sender and,
/// for `remote`, one destination domain (one SMTP transaction where the protocol allows it).
public struct DeliveryBatch: Sendable {
    public var route: Route
    /// The queue id, for log lines and Maildir file names.
    public var messageID: String
    /// The envelope sender for these recipients ("" for `<>`): the SRS address for forwarded mail.
    public var mailFrom: String
    public var recipients: [QueuedMessage.Recipient]
    /// The whole message, CRLF line endings, trace fields first.
    public var message: ByteBuffer
    public var smtputf8: Bool
    /// `remote`: the recipients' domain, lower-cased; "" for every other route.
    public var destination: String
    /// REQUIRETLS, `TLS-Required: No`, TLS-RPT report (`DeliveryOptions`); used by the remote courier.
    public var options = DeliveryOptions()

    public init(route: Route, messageID: String, mailFrom: String, recipients: [QueuedMessage.Recipient],
                message: ByteBuffer, smtputf8: Bool, destination: String = "") {
        self.route = route
        self.messageID = messageID
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.message = message
        self.smtputf8 = smtputf8
        self.destination = destination
    }

    public var addresses: [String] { recipients.map(\.address) }
}
