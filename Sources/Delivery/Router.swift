import MailQueue

/// Chooses each recipient's `Route` from the configuration: at expansion, when a message is queued, and for
/// queue files written before routes existed (their recipients carry none). Pure: the local-domain test
/// and the settings are given.
public struct Router: Sendable {
    /// How local mailboxes are reached: `maildir` (the default), `lmtp` or `mda` (`[delivery] lmtp`, `mda`).
    public var local: Route
    /// `[delivery] relay_host` is set: mail for other domains goes to the smarthost.
    public var relay: Bool
    public let isLocalDomain: @Sendable (String) -> Bool

    public init(local: Route = .maildir, relay: Bool = false, isLocalDomain: @escaping @Sendable (String) -> Bool) {
        self.local = local
        self.relay = relay
        self.isLocalDomain = isLocalDomain
    }

    /// `lmtp` when an LMTP server is given, else `mda` when a command is, else `maildir`.
    public static func localRoute(lmtp: String, mda: String) -> Route {
        !lmtp.isEmpty ? .lmtp : !mda.isEmpty ? .mda : .maildir
    }

    /// The route of a recipient: a `| command` alias is `pipe`; an address in a local domain goes to the
    /// local mailbox route; any other to the smarthost when one is set, else to the domain's MX hosts.
    public func route(address: String, command: String?) -> Route {
        if command != nil { return .pipe }
        if isLocalDomain(QueuedMessage.domain(of: address)) { return local }
        return relay ? .smarthost : .remote
    }

    /// The stored route, or the derived one for a recipient queued before routes existed.
    public func route(of recipient: QueuedMessage.Recipient) -> Route {
        recipient.route ?? route(address: recipient.address, command: recipient.command)
    }
}
