import MailQueue

/// The courier for each route, as configured now. A route stored in the queue whose courier is gone (the
/// LMTP server was removed from the config after the message was queued) goes to the courier that replaces
/// it: local mailboxes by whatever local route is configured, remote mail by the smarthost when one is set
/// and by the MX hosts otherwise.
public struct CourierTable: Sendable {
    public var maildir: any Courier
    public var lmtp: (any Courier)?
    /// `pipe` and `mda`.
    public var command: any Courier
    public var remote: any Courier
    public var smarthost: (any Courier)?
    /// `[delivery] mda` is set (the `mda` route is the local one).
    public var hasMDA: Bool

    public init(maildir: any Courier, lmtp: (any Courier)? = nil, command: any Courier, remote: any Courier,
                smarthost: (any Courier)? = nil, hasMDA: Bool = false) {
        self.maildir = maildir
        self.lmtp = lmtp
        self.command = command
        self.remote = remote
        self.smarthost = smarthost
        self.hasMDA = hasMDA
    }

    /// The route mail actually takes with this table, given the one stored.
    public func effective(_ route: Route) -> Route {
        switch route {
        case .pipe: return .pipe
        case .maildir, .lmtp, .mda:
            if lmtp != nil { return .lmtp }
            return hasMDA ? .mda : .maildir
        case .remote, .smarthost:
            return smarthost != nil ? .smarthost : .remote
        }
    }

    public func courier(for route: Route) -> any Courier {
        switch effective(route) {
        case .maildir: return maildir
        case .lmtp: return lmtp ?? maildir
        case .mda, .pipe: return command
        case .remote: return remote
        case .smarthost: return smarthost ?? remote
        }
    }
}
