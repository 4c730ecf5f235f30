import SMTPProtocol
import SMTPTransport

/// What happened to one recipient in one delivery attempt, typed: the runner records it, chooses retry or
/// bounce from `outcome`, and a DSN reports `status` as it is, never read back out of a reply text.
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
    /// Enhanced status code (RFC 3463): the server's, or ours (`4.4.1` for no answer, …).
    public var status: EnhancedStatusCode
    /// The reply of the server that decided this result, when one did.
    public var remoteReply: SMTPClientReply?
    /// Our own reason when no server reply decided it ("MX lookup for x failed: …", "delivered to maildir").
    public var reason: String
    /// "mx.example.com [192.0.2.1]" when a server answered.
    public var remoteMTA: String?
    /// "TLSv1.3 verified" / "TLSv1.3 unverified" / "TLSv1.3 dane=verified" (the certificate matched a TLSA
    /// record, RFC 7672) when the transaction ran over TLS, nil for plaintext.
    public var tls: String?
    /// `[delivery.providers.NAME]` of the MX host that answered, when it matched one.
    public var provider: String?
    /// Our address on the connection that got the reply (for a diagnosis naming the IP to fix).
    public var sourceAddress: String?

    /// A result decided by us (no server reply).
    public init(address: String, outcome: Outcome, status: EnhancedStatusCode, reason: String,
                remoteMTA: String? = nil, tls: String? = nil) {
        self.address = address
        self.outcome = outcome
        self.status = status
        self.reason = reason
        self.remoteMTA = remoteMTA
        self.tls = tls
    }

    /// A result decided by a server's reply: 2xx/3xx sent, 4xx temporary, 5xx permanent; the reply's enhanced
    /// status code, or the class default (`2.0.0`, `4.0.0`, `5.0.0`) when it has none.
    public init(address: String, reply: SMTPClientReply, remoteMTA: String? = nil, tls: String? = nil) {
        self.address = address
        self.outcome = reply.isPermanent ? .permanent : reply.isPositive ? .sent : .temporary
        let klass = reply.isPermanent ? 5 : reply.isPositive ? 2 : 4
        self.status = reply.enhancedStatus.flatMap { EnhancedStatusCode(parsing: $0[...]) }
            .flatMap { $0.klass == klass ? $0 : nil } ?? EnhancedStatusCode(klass, 0, 0)
        self.remoteReply = reply
        self.reason = ""
        self.remoteMTA = remoteMTA
        self.tls = tls
    }

    /// The reply as one line for logs, `apus queue show` and the DSN's `Diagnostic-Code`: the server's
    /// (`550 5.1.1 <x@y>: no such user`), else our reason.
    public var reply: String { remoteReply?.description ?? reason }

    /// The same outcome for several recipients (a failure before any RCPT).
    public static func all(_ addresses: [String], _ outcome: Outcome, _ status: EnhancedStatusCode, _ reason: String,
                           remoteMTA: String? = nil, tls: String? = nil) -> [RecipientResult] {
        addresses.map { RecipientResult(address: $0, outcome: outcome, status: status, reason: reason,
                                        remoteMTA: remoteMTA, tls: tls) }
    }
}
