/// The server core: listeners, policy, acceptance into the queue, local delivery, all composed
/// from the lower layers (DESIGN.md §2, layer 2).
import Config
import Directory
import NIOConcurrencyHelpers
import SMTPProtocol

/// The current directory snapshot, replaced on reload.
public final class DirectoryHolder: Sendable {
    private let box: NIOLockedValueBox<MailDirectory>
    public init(_ directory: MailDirectory) { box = NIOLockedValueBox(directory) }
    public var current: MailDirectory { box.withLockedValue { $0 } }
    public func replace(_ directory: MailDirectory) { box.withLockedValue { $0 = directory } }
}

/// Relay and sender rules (DESIGN.md §4): port 25 takes mail for local users only unless the
/// session is authenticated; an authenticated user sends only as an address they own.
public struct ServerPolicy: SessionPolicy {
    let directory: DirectoryHolder
    let config: ApusConfig

    public init(directory: DirectoryHolder, config: ApusConfig) {
        self.directory = directory
        self.config = config
    }

    public func checkRecipient(_ recipient: ForwardPath, authenticatedUser: String?) -> SMTPReply? {
        guard case .mailbox(let mailbox) = recipient else { return nil }   // <Postmaster> (RFC 5321 §4.5.1)
        guard case .name(let domain, _) = mailbox.domain else {
            // Address literals are never local: only authenticated users may send to them.
            return authenticatedUser == nil ? .c550RelayDenied(mailbox.domain.description) : nil
        }
        let dir = directory.current
        guard dir.isLocalDomain(domain) else {
            return authenticatedUser == nil ? .c550RelayDenied(domain) : nil
        }
        if mailbox.localPart.lowercased() == "postmaster" { return nil }
        guard dir.canonicalUser(localPart: mailbox.localPart, domain: domain) != nil else {
            return .c550NoSuchUser(mailbox.description)
        }
        return nil
    }

    public func checkSender(_ sender: ReversePath, authenticatedUser: String?) -> SMTPReply? {
        guard let user = authenticatedUser, case .mailbox(let mailbox) = sender else { return nil }
        let address = "\(mailbox.localPart)@\(mailbox.domain.lookupKey)".lowercased()
        if case .name(let domain, _) = mailbox.domain,
           let canonical = directory.current.canonicalUser(localPart: mailbox.localPart, domain: domain),
           "\(canonical)@\(domain)".lowercased() == user.lowercased() {
            return nil
        }
        for allowed in config.extraSenders(for: user) {
            let pattern = allowed.lowercased()
            if pattern == address { return nil }
            if pattern.hasPrefix("*@"), address.hasSuffix(String(pattern.dropFirst(1))) { return nil }
        }
        return .c550SenderNotOwned(mailbox.description)
    }

    /// The queue address of an accepted recipient: local users in canonical form.
    public func resolve(_ recipient: ForwardPath) -> String {
        switch recipient {
        case .postmaster:
            return "postmaster@\(directory.current.domains.first ?? config.hostname)"
        case .mailbox(let mailbox):
            guard case .name(let domain, _) = mailbox.domain else { return mailbox.lookupKey }
            let dir = directory.current
            if dir.isLocalDomain(domain) {
                if let user = dir.canonicalUser(localPart: mailbox.localPart, domain: domain) { return "\(user)@\(domain)" }
                return "\(mailbox.localPart.lowercased())@\(domain)"
            }
            return "\(mailbox.encodedLocalPart)@\(domain)"
        }
    }
}
