import NIOCore

/// The server side of one SMTP session as a pure state machine (RFC 5321 §4.1, §3.3).
///
/// The network shell feeds it events (a command line, the end of DATA, TLS up, credentials
/// checked, message stored) and carries out the actions it returns. It holds no socket, clock or
/// logger, so every protocol rule is testable without I/O.
public struct SMTPSession: Sendable {
    public let configuration: SessionConfiguration
    let policy: any SessionPolicy

    enum Phase: Sendable, Equatable {
        case command
        case authPlainResponse
        case authLoginUsername
        case authLoginPassword(username: String)
        case data
        /// Waiting for the shell to answer an action (credentials, enqueue, TLS handshake).
        case waiting
        case closed
    }

    struct Transaction: Sendable {
        var mailFrom: ReversePath
        var parameters: MailParameters
        var recipients: [ForwardPath] = []
        var traceFields: [String] = []
        var annotations: [String: String] = [:]
    }

    var phase = Phase.command
    public internal(set) var clientName: String?
    public internal(set) var esmtp = false
    public internal(set) var tlsActive: Bool
    public internal(set) var authenticatedUser: String?
    /// The mechanism of the last AUTH command (`PLAIN`, `LOGIN`, or what the client asked for), for logs.
    public internal(set) var authMechanism: String?
    var transaction: Transaction?
    /// A MAIL command whose sender check is running.
    var pendingMail: Transaction?
    public internal(set) var errorCount = 0

    public init(configuration: SessionConfiguration, policy: any SessionPolicy) {
        self.configuration = configuration
        self.policy = policy
        self.tlsActive = configuration.listener == .submissions
    }

    public var isClosed: Bool { phase == .closed }

    /// The transaction so far for a log line: `from=<a@b.example> to=<c@d.example>,<e@d.example>`, or "".
    public var envelopeForLog: String {
        guard let transaction = transaction ?? pendingMail else { return "" }
        var text = "from=\(transaction.mailFrom)"
        if !transaction.recipients.isEmpty {
            text += " to=" + transaction.recipients.map(\.description).joined(separator: ",")
        }
        return text
    }
    /// True while the next line is part of an AUTH exchange (the shell must not log it).
    public var expectsSecret: Bool {
        switch phase {
        case .authPlainResponse, .authLoginUsername, .authLoginPassword: return true
        default: return false
        }
    }

    /// The greeting, sent when the connection opens (for port 465, after the TLS handshake).
    public mutating func start() -> [SessionAction] {
        [.reply(.c220Greeting(configuration.hostname))]
    }

    /// One command line (without CRLF) from the client.
    public mutating func receive(line: ByteBuffer) -> [SessionAction] {
        switch phase {
        case .authPlainResponse, .authLoginUsername, .authLoginPassword:
            return authResponse(line)
        case .command:
            break
        case .data, .waiting, .closed:
            return []
        }
        switch SMTPCommand.parse(line.readableBytesView) {
        case .failure(.wrongProtocol(let reply)):
            phase = .closed
            return [.reply(reply), .close]
        case .failure(.reply(let reply)):
            return fail(reply)
        case .success(let command):
            return handle(command)
        }
    }

    /// The client sent a line longer than the limit.
    public mutating func lineTooLong() -> [SessionAction] {
        if expectsSecret {
            phase = .command
            return fail(SMTPReply(500, EnhancedStatusCode(5, 5, 6), "Authentication exchange line is too long"))
        }
        return fail(.c500LineTooLong)
    }

    /// The command timeout expired (RFC 5321 §4.5.3.2.7).
    public mutating func timedOut() -> [SessionAction] {
        phase = .closed
        return [.reply(.c421Timeout(configuration.hostname)), .close]
    }

    /// Replies with an error and counts it; too many errors end the session with `421`.
    mutating func fail(_ reply: SMTPReply) -> [SessionAction] {
        errorCount += 1
        if errorCount >= configuration.maxErrors {
            phase = .closed
            return [.reply(reply), .reply(.c421TooManyErrors(configuration.hostname)), .close]
        }
        return [.reply(reply)]
    }


    /// Forgets everything learned before STARTTLS (RFC 3207 §4.2).
    mutating func resetForTLS() {
        clientName = nil
        esmtp = false
        transaction = nil
        authenticatedUser = nil
    }

    mutating func setGreeted(_ name: String, esmtp: Bool) {
        clientName = name
        self.esmtp = esmtp
        transaction = nil
    }

    mutating func setAuthenticated(_ user: String) { authenticatedUser = user }
}
