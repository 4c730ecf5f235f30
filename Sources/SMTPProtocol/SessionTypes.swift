import NIOCore

/// Which listener a session arrived on (DESIGN.md §3 `[listen]`).
public enum ListenerKind: String, Sendable, Hashable {
    /// Port 25: mail for local domains from anyone; relaying only after AUTH.
    case mx
    /// Port 587: STARTTLS, then AUTH, then mail to anywhere (RFC 6409).
    case submission
    /// Port 465: implicit TLS, then AUTH (RFC 8314).
    case submissions

    public var requiresAuth: Bool { self != .mx }
}

/// Settings of one session, fixed for its lifetime.
public struct SessionConfiguration: Sendable {
    public var hostname: String
    public var listener: ListenerKind
    /// A certificate is loaded, so STARTTLS can be offered.
    public var tlsAvailable: Bool
    public var maxMessageBytes: Int
    public var maxRecipients: Int
    /// Failed commands before `421` and disconnect.
    public var maxErrors: Int
    /// Ask the shell to check senders of unauthenticated sessions (`.checkSender`), e.g. with SPF.
    public var checkSenders: Bool = false

    public init(hostname: String, listener: ListenerKind, tlsAvailable: Bool,
                maxMessageBytes: Int = 52_428_800, maxRecipients: Int = 100, maxErrors: Int = 10) {
        self.hostname = hostname
        self.listener = listener
        self.tlsAvailable = tlsAvailable
        self.maxMessageBytes = maxMessageBytes
        self.maxRecipients = maxRecipients
        self.maxErrors = maxErrors
    }
}

/// The decisions the session asks of the server's policy (domains, users, relay rules).
/// Synchronous: answered from an in-memory snapshot of the directory.
public protocol SessionPolicy: Sendable {
    /// nil to accept; else the reply that refuses this recipient.
    func checkRecipient(_ recipient: ForwardPath, authenticatedUser: String?) -> SMTPReply?
    /// nil to accept; else the reply that refuses this sender.
    func checkSender(_ sender: ReversePath, authenticatedUser: String?) -> SMTPReply?
}

/// The envelope of an accepted message.
public struct Envelope: Sendable, Hashable {
    public var mailFrom: ReversePath
    public var recipients: [ForwardPath]
    public var parameters: MailParameters
    /// The EHLO/HELO name the client gave.
    public var clientName: String
    public var authenticatedUser: String?
    /// RFC 3848 / RFC 6531 §3.7.4 "with" protocol name for the Received header.
    public var protocolName: String
    /// Trace header fields decided before DATA (e.g. `Received-SPF: …`), each without CRLF.
    public var traceFields: [String] = []
    /// `SenderVerdict.annotations` of the MAIL command.
    public var annotations: [String: String] = [:]

    public init(mailFrom: ReversePath, recipients: [ForwardPath], parameters: MailParameters,
                clientName: String, authenticatedUser: String?, protocolName: String) {
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.parameters = parameters
        self.clientName = clientName
        self.authenticatedUser = authenticatedUser
        self.protocolName = protocolName
    }
}

/// Result of checking an envelope sender (`checkSender`).
public struct SenderVerdict: Sendable, Equatable {
    /// nil to accept the sender.
    public var refusal: SMTPReply?
    /// Header fields to add to the accepted message (e.g. `Received-SPF: …`), without CRLF.
    public var traceFields: [String]
    /// Facts the server keeps for later checks of the same transaction (e.g. the SPF result for DMARC).
    public var annotations: [String: String]

    public init(refusal: SMTPReply? = nil, traceFields: [String] = [], annotations: [String: String] = [:]) {
        self.refusal = refusal
        self.traceFields = traceFields
        self.annotations = annotations
    }
}

/// Result of checking credentials, fed back with `SMTPSession.authChecked`.
public enum AuthOutcome: Sendable, Equatable {
    case success(user: String)
    case failure
    /// A failure with the reason for the server's log only (`no such user`, `wrong password`); the client
    /// gets the same `535` as for `failure`.
    case refused(reason: String)
    /// Too many failures from this client address recently.
    case blocked
    case temporaryFailure
}

/// What the network shell must do next. Actions are carried out in order.
public enum SessionAction: Sendable, Equatable {
    case reply(SMTPReply)
    /// The 220 has been queued: install TLS now and discard any plaintext already buffered.
    case startTLS
    /// Switch the input to DATA decoding with this size limit (after the 354). `declaredSize`: the client's
    /// MAIL FROM SIZE= (RFC 1870), a hint for the first buffer, never trusted as a limit.
    case receiveData(maxBytes: Int, declaredSize: Int? = nil)
    /// Check the credentials off the event loop; answer with `authChecked`.
    case verifyCredentials(username: String, password: String)
    /// Store the message durably; answer with `enqueued` or `enqueueFailed`.
    case enqueue(Envelope, ByteBuffer)
    /// Check the envelope sender of an unauthenticated session (SPF) off the event loop; answer
    /// with `senderChecked`.
    case checkSender(ReversePath, heloName: String)
    case close
}
