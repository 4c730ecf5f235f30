import Foundation

/// How one recipient's delivery attempt ended, as the `sent`/`delivered`, `deferred` and `bounced` log
/// lines say it: for `QueueRunner`'s observer (the server's metrics and the event store), so Delivery needs
/// neither a metrics library nor a database.
public struct DeliveryEvent: Sendable, Hashable {
    public enum Result: String, Sendable, CaseIterable {
        /// Delivered (handed to a Maildir, LMTP, a command or accepted by the remote server).
        case sent
        /// A temporary failure; another attempt is scheduled.
        case deferred
        /// A permanent failure or a give-up; a DSN goes to the sender.
        case bounced
        /// Still undelivered after `[delivery] delay_warning_after`; a "delayed" DSN went to the sender.
        case delayed
    }
    /// `local`: a Maildir, the LMTP server, the MDA or a `| command` alias; `remote`: another server over SMTP.
    public enum Kind: String, Sendable, CaseIterable {
        case local, remote
    }
    public var result: Result
    public var kind: Kind
    /// The queue id (the API's message id).
    public var messageID: String
    /// The envelope sender of the message ("" for `<>`).
    public var sender: String
    /// The recipient this event is about (after alias expansion).
    public var recipient: String
    /// The reply that decided it, as one line ("550 5.1.1 <x@y>: no such user"), when there is one.
    public var reply: String?
    /// The enhanced status code of `reply` ("5.1.1"), when known.
    public var enhancedStatus: String?
    /// One sentence on what a known provider code means and what to fix, when one applies.
    public var diagnosis: String?
    /// The server that answered ("mx.example.com [192.0.2.1]"), for remote deliveries.
    public var remoteHost: String?
    /// The provider (`[delivery.providers.NAME]`) of the remote host, when it matches one.
    public var provider: String?
    /// Transport security of a remote delivery that was sent ("TLSv1.3 verified", "TLSv1.3 dane=verified"),
    /// as `RecipientResult.tls`; nil for plaintext and for other results.
    public var tls: String?

    public init(result: Result, kind: Kind, messageID: String = "", sender: String = "", recipient: String = "",
                reply: String? = nil, enhancedStatus: String? = nil, diagnosis: String? = nil,
                remoteHost: String? = nil, provider: String? = nil, tls: String? = nil) {
        self.result = result
        self.kind = kind
        self.messageID = messageID
        self.sender = sender
        self.recipient = recipient
        self.reply = reply
        self.enhancedStatus = enhancedStatus
        self.diagnosis = diagnosis
        self.remoteHost = remoteHost
        self.provider = provider
        self.tls = tls
    }
}
