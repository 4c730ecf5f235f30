import NIOCore

/// The seam between the queue runner and the wire (STYLE.md habit 7): `RemoteCourier` is the real one,
/// tests use their own. A delivery returns one result per recipient, each saying whether it was sent,
/// failed for now (retry) or failed for good (bounce), which keeps the runner's logic trivial.
public protocol Courier: Sendable {
    /// Delivers `message` to `recipients`, all in `domain`, in one SMTP transaction where possible.
    /// Returns exactly one result per recipient, in the same order.
    func deliver(domain: String, mailFrom: String, recipients: [String], message: ByteBuffer,
                 smtputf8: Bool) async -> [RecipientResult]
}

/// What happened to one recipient in one delivery attempt.
public struct RecipientResult: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case sent
        /// 4xx, timeout, connection trouble, DNS SERVFAIL: try again later.
        case temporary
        /// 5xx, NXDOMAIN, null MX: bounce now.
        case permanent
    }

    public var address: String
    public var outcome: Outcome
    /// Enhanced status code (RFC 3463): the server's, or ours ("4.4.1" for no answer, …).
    public var status: String
    /// The server's reply (`250 2.0.0 Ok: queued as …`) or our own reason.
    public var reply: String
    /// "mx.example.com [192.0.2.1]" when a server answered.
    public var remoteMTA: String?
    /// "TLSv1.3" when the transaction ran over TLS (with " verified" / " unverified" appended), nil for plaintext.
    public var tls: String?

    public init(address: String, outcome: Outcome, status: String, reply: String, remoteMTA: String? = nil,
                tls: String? = nil) {
        self.address = address
        self.outcome = outcome
        self.status = status
        self.reply = reply
        self.remoteMTA = remoteMTA
        self.tls = tls
    }
}
