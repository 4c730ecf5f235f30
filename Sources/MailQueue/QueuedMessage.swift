import Foundation

/// One message in the queue: its envelope and per-recipient delivery state.
///
/// On disk (`<data_dir>/queue/<id>.msg`) a queue file is:
/// ```
/// APUS-QUEUE 1\n
/// {"id":"…","mailFrom":"…","recipients":[…],…}\n      ← this struct as one line of JSON
/// <the message, CRLF line endings, Received header first>
/// ```
/// The file is written once, durably, before the client hears `250`. Later state changes go to
/// `<id>.state` (the same JSON), which overrides the header line when present.
public struct QueuedMessage: Codable, Sendable, Hashable {
    public enum RecipientState: String, Codable, Sendable {
        case pending, sent, failed
    }

    public struct Recipient: Codable, Sendable, Hashable {
        /// Where the message goes (after alias resolution).
        public var address: String
        /// The address the client gave in RCPT TO.
        public var original: String
        public var state: RecipientState
        public var attempts: Int
        public var lastReply: String?
        /// The remote server that gave `lastReply` ("mx.example.com [192.0.2.1]"), for DSNs. Set by delivery.
        public var remoteMTA: String? = nil
        /// The envelope sender for this recipient when it differs from the message's `mailFrom`: the SRS
        /// address of mail forwarded by an alias (issue 5). Couriers send with `mailFrom ?? message.mailFrom`.
        public var mailFrom: String? = nil
        /// Set for a `| command` alias (issue 5): deliver by running this command (`PipeCourier`) with the
        /// message on stdin; `address` is then the alias that holds the command, not a mailbox.
        public var command: String? = nil
        /// How this recipient is delivered, set at expansion; nil in queue files older than routes (the runner
        /// then derives it, `Router`).
        public var route: Route? = nil
        /// The enhanced status code (RFC 3463) of the last attempt, "5.1.1": kept typed beside `lastReply` so
        /// that a DSN reports it without reading it back out of the reply text.
        public var lastStatus: String? = nil
        /// One sentence on what `lastReply` means and what to fix, for a known provider code (`Diagnosis`).
        public var diagnosis: String? = nil
        /// `[delivery.providers.NAME]` of the server that gave `lastReply`, when it matched one.
        public var provider: String? = nil

        public init(address: String, original: String, state: RecipientState = .pending,
                    attempts: Int = 0, lastReply: String? = nil) {
            self.address = address
            self.original = original
            self.state = state
            self.attempts = attempts
            self.lastReply = lastReply
        }
    }

    public var id: String
    /// The envelope sender; empty for the null reverse-path `<>`.
    public var mailFrom: String
    public var recipients: [Recipient]
    public var receivedAt: Date
    public var clientAddress: String
    public var clientName: String
    public var authenticatedUser: String?
    public var smtputf8: Bool
    public var size: Int
    /// When delivery of the pending recipients is next due; nil means now. Set by the queue runner.
    public var nextAttempt: Date? = nil
    /// When the "delayed" DSN (RFC 3464 `Action: delayed`) went to the sender; nil until then. Sent once.
    public var delayWarningSent: Date? = nil
    /// `MAIL FROM:<…> REQUIRETLS` (RFC 8689): true only when given; absent from queue files otherwise, so
    /// files written before the field existed read as false.
    public var requireTLS: Bool? = nil

    /// REQUIRETLS applies to every remote hop of this message.
    public var requiresTLS: Bool { requireTLS == true }

    public init(id: String, mailFrom: String, recipients: [Recipient], receivedAt: Date, clientAddress: String,
                clientName: String, authenticatedUser: String?, smtputf8: Bool, size: Int) {
        self.id = id
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.receivedAt = receivedAt
        self.clientAddress = clientAddress
        self.clientName = clientName
        self.authenticatedUser = authenticatedUser
        self.smtputf8 = smtputf8
        self.size = size
    }

    public var isDone: Bool { recipients.allSatisfy { $0.state != .pending } }

    /// The domain of `address` (after the last `@`), "" when there is none.
    public static func domain(of address: String) -> String {
        guard let at = address.utf8.lastIndex(of: UInt8(ascii: "@")) else { return "" }
        return String(address[address.index(after: at)...])
    }

    /// A new queue id: 8 hex digits of seconds since 1970, then 8 random hex digits.
    /// Sorts by arrival and is unique enough to be a file name.
    public static func newID(now: Date = Date()) -> String {
        let t = String(UInt32(truncatingIfNeeded: Int(now.timeIntervalSince1970)), radix: 16)
        let r = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return String(repeating: "0", count: 8 - t.count) + t + String(repeating: "0", count: 8 - r.count) + r
    }

    /// Queue ids are file names: only lowercase hex, 16 characters.
    public static func isValidID(_ id: String) -> Bool {
        id.utf8.count == 16 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
