/// The server core: listeners, policy, acceptance into the queue, local delivery, all composed
/// from the lower layers (DESIGN.md §2, layer 2).
import Config
import Foundation
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

/// Relay and sender rules (DESIGN.md §4): port 25 takes mail for local addresses only unless the
/// session is authenticated; an authenticated user sends only as an address they own. A local address
/// is accepted when it resolves to someone (aliases, users, catch-all, SRS: `MailDirectory.resolve`).
public struct ServerPolicy: SessionPolicy {
    let directory: DirectoryHolder
    let config: ApusConfig
    /// The SRS key from `<data_dir>/state/srs.secret`; nil when it cannot be read or made (`srsProblem`).
    let srs: SRS?
    let srsProblem: String?
    /// `[suppression] smtp = true`: whether (sender domain, recipient) is on the suppression list.
    let isSuppressed: (@Sendable (String, String) -> Bool)?
    /// `[api] public_url` is set: `unsubscribe@<local domain>` takes the `mailto:` unsubscribe requests.
    let unsubscribeMailbox: Bool

    public init(directory: DirectoryHolder, config: ApusConfig, isSuppressed: (@Sendable (String, String) -> Bool)? = nil) {
        self.directory = directory
        self.config = config
        self.unsubscribeMailbox = !config.api.publicURL.isEmpty
        self.isSuppressed = config.suppression.smtp ? isSuppressed : nil
        do {
            srs = SRS(secret: try SRSSecret.loadOrCreate(path: SRSSecret.path(dataDirectory: config.dataDir)))
            srsProblem = nil
        } catch {
            srs = nil
            srsProblem = "\(error)"
        }
    }

    public func checkRecipient(_ recipient: ForwardPath, authenticatedUser: String?) -> SMTPReply? {
        guard case .mailbox(let mailbox) = recipient else { return nil }   // <Postmaster> (RFC 5321 §4.5.1)
        guard case .name(let domain, _) = mailbox.domain else {
            // Address literals are never local: only authenticated users may send to them.
            return authenticatedUser == nil ? .c550RelayDenied(mailbox.domain.description) : nil
        }
        let dir = directory.current
        // An authenticated submission to a suppressed address (`[suppression] smtp = true`): the list of the
        // user's own domain, as the API applies the list of its key's domain.
        if let user = authenticatedUser, let isSuppressed, case let senderDomain = EventWiring.domain(of: user),
           !senderDomain.isEmpty {
            if isSuppressed(senderDomain, mailbox.lookupKey) { return .c550Suppressed(mailbox.description, domain: senderDomain) }
        }
        guard dir.isLocalDomain(domain) else {
            return authenticatedUser == nil ? .c550RelayDenied(domain) : nil
        }
        if mailbox.localPart.lowercased() == "postmaster" { return nil }
        do {
            _ = try dir.resolve(mailbox, srs: srs)
            return nil
        } catch AliasError.noSuchAddress where isUnsubscribeMailbox(mailbox) {
            return nil
        } catch {
            return Self.reply(for: error, mailbox: mailbox)
        }
    }

    /// `unsubscribe@<local domain>` without a user or alias of that name, while one-click links are on: the
    /// `mailto:` form of List-Unsubscribe (InboundReports reads the token in the subject).
    func isUnsubscribeMailbox(_ mailbox: Mailbox) -> Bool {
        guard unsubscribeMailbox, mailbox.localPart.lowercased() == "unsubscribe",
              case .name(let domain, _) = mailbox.domain else { return false }
        let dir = directory.current
        return dir.isLocalDomain(domain) && (try? dir.resolve(mailbox, srs: srs)) == nil
    }

    /// The RCPT reply for an address that does not resolve. Alias loops and depth are the operator's
    /// mistakes: a temporary failure, so that the mail comes again once they are fixed.
    static func reply(for error: AliasError, mailbox: Mailbox) -> SMTPReply {
        switch error {
        case .noSuchAddress: .c550NoSuchUser(mailbox.description)
        case .invalidSRS: .c550InvalidSRS(mailbox.description)
        case .loop, .tooDeep, .tooManyTargets: .c451AliasError
        }
    }

    public func checkSender(_ sender: ReversePath, authenticatedUser: String?) -> SMTPReply? {
        guard let user = authenticatedUser, case .mailbox(let mailbox) = sender else { return nil }
        let address = "\(mailbox.localPart)@\(mailbox.domain.lookupKey)".lowercased()
        if case .name(let domain, _) = mailbox.domain {
            let dir = directory.current
            if let canonical = dir.canonicalUser(localPart: mailbox.localPart, domain: domain),
               "\(canonical)@\(domain)".lowercased() == user.lowercased() {
                return nil
            }
            // An alias that reaches the user (DESIGN.md §4); the catch-all does not count.
            if dir.isLocalDomain(domain), !SRS.isSRS(localPart: mailbox.localPart),
               let resolved = try? dir.resolve(mailbox, useCatchAll: false),
               resolved.recipients.contains(where: { $0.kind == .local && $0.target.lowercased() == user.lowercased() }) {
                return nil
            }
        }
        for allowed in config.extraSenders(for: user) {
            let pattern = allowed.lowercased()
            if pattern == address { return nil }
            if pattern.hasPrefix("*@"), address.hasSuffix(String(pattern.dropFirst(1))) { return nil }
        }
        return .c550SenderNotOwned(mailbox.description)
    }

    /// The final recipients of an accepted recipient: local users in canonical form, forwards, pipes.
    /// Throws when the directory changed since RCPT and the address no longer resolves.
    public func expand(_ recipient: ForwardPath) throws(AliasError) -> [FinalRecipient] {
        let dir = directory.current
        switch recipient {
        case .postmaster:
            guard let domain = dir.domains.first else { return [FinalRecipient(.local, "postmaster@\(config.hostname)")] }
            return expandPostmaster(domain: domain, dir: dir)
        case .mailbox(let mailbox):
            guard case .name(let domain, _) = mailbox.domain, dir.isLocalDomain(domain) else {
                return [FinalRecipient(.forward, mailbox.lookupKey)]
            }
            if mailbox.localPart.lowercased() == "postmaster" { return expandPostmaster(domain: domain, dir: dir) }
            return try dir.resolve(mailbox, srs: srs).recipients
        }
    }

    /// Postmaster always reaches someone (RFC 5321 §4.5.1): its alias or user, else the mailbox.
    func expandPostmaster(domain: String, dir: MailDirectory) -> [FinalRecipient] {
        (try? dir.resolve(localPart: "postmaster", domain: domain, srs: srs).recipients)
            ?? [FinalRecipient(.local, "postmaster@\(domain)")]
    }

    /// The envelope sender for a recipient: SRS0 (or SRS1) at the alias's domain when mail from another domain
    /// is forwarded to another domain by an alias; nil (the message's sender) otherwise. `<>` stays `<>`.
    func forwardingSender(_ mailFrom: ReversePath, for recipient: FinalRecipient, now: Date = Date()) -> String? {
        guard recipient.kind == .forward, let via = recipient.via, let srs,
              let mailbox = mailFrom.mailbox, case .name(let senderDomain, _) = mailbox.domain,
              !directory.current.isLocalDomain(senderDomain),
              let at = via.utf8.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        let aliasDomain = String(via[via.index(after: at)...])
        return srs.forward(localPart: mailbox.localPart, domain: senderDomain, aliasDomain: aliasDomain, now: now)
    }
}

extension SMTPReply {
    /// `[suppression] smtp = true` and the recipient is on the sender domain's suppression list.
    static func c550Suppressed(_ address: String, domain: String) -> SMTPReply {
        SMTPReply(550, EnhancedStatusCode(5, 7, 1),
                  "<\(address)> is on the suppression list of \(domain) (bounced, complained or unsubscribed); remove it with: apus suppression remove \(address) --domain \(domain)")
    }

    /// An `SRS0=`/`SRS1=` address that we did not make, was altered, or has expired.
    static func c550InvalidSRS(_ address: String) -> SMTPReply {
        SMTPReply(550, EnhancedStatusCode(5, 1, 1), "<\(address)>: invalid or expired return address (SRS)")
    }
    /// The aliases file makes a loop or nests too deep; logged in full, and the sender retries later.
    static let c451AliasError = SMTPReply(451, EnhancedStatusCode(4, 3, 5),
        "This address cannot be resolved now (alias configuration error); try again later")
    /// RFC 5321 §6.3: a message that has passed too many relays is probably in a loop.
    static let c554MailLoop = SMTPReply(554, EnhancedStatusCode(5, 4, 6), "Too many Received headers: mail loop?")
}
