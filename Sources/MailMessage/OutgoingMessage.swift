/// What an application asks Apus to send (the JSON of `POST /v1/messages`, DESIGN.md §3c), before it becomes
/// an RFC 5322 message: `MIMEBuilder.build` turns it into bytes. `bcc` recipients are envelope-only: they never
/// appear in the built message.
public struct OutgoingMessage: Sendable {
    public var from: Mailbox
    public var to: [Mailbox]
    public var cc: [Mailbox]
    public var bcc: [Mailbox]
    public var replyTo: Mailbox?
    public var subject: String
    /// The `text/plain` body.
    public var text: String?
    /// The `text/html` body; with `text` too, the two become `multipart/alternative` (text first).
    public var html: String?
    /// Extra header fields, in order (`X-…`, `List-Unsubscribe`…); the builder refuses the ones it writes itself.
    public var headers: [(name: String, value: String)]
    public var attachments: [Attachment]

    public init(from: Mailbox, to: [Mailbox] = [], cc: [Mailbox] = [], bcc: [Mailbox] = [], replyTo: Mailbox? = nil,
                subject: String = "", text: String? = nil, html: String? = nil,
                headers: [(name: String, value: String)] = [], attachments: [Attachment] = []) {
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.headers = headers
        self.attachments = attachments
    }

    /// Every envelope recipient: to, cc and bcc, in that order.
    public var recipients: [Mailbox] { to + cc + bcc }
}
