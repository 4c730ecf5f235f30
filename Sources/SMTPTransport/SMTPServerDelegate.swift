/// The SMTP server's network shell (SwiftNIO): line framing, DATA decoding, STARTTLS, timeouts.
/// It drives the pure `SMTPSession` and hands credentials and accepted messages to a delegate.
import Logging
import NIOCore
import NIOPosix
import SMTPProtocol

/// Facts about one connection, for logs, Received headers and policy.
public struct ConnectionInfo: Sendable {
    public var id: String
    public var listener: ListenerKind
    public var remoteAddress: String
    public var localAddress: String
    /// "TLSv1.3" once TLS is up.
    public var tlsVersion: String?

    public init(id: String, listener: ListenerKind, remoteAddress: String, localAddress: String, tlsVersion: String? = nil) {
        self.id = id
        self.listener = listener
        self.remoteAddress = remoteAddress
        self.localAddress = localAddress
        self.tlsVersion = tlsVersion
    }
}

/// What the server core does with credentials and messages. Called off the event loop.
public protocol SMTPServerDelegate: Sendable {
    func authenticate(username: String, password: String, connection: ConnectionInfo) async -> AuthOutcome
    /// Stores the message durably and returns its queue id, or the reply explaining why not.
    func accept(envelope: Envelope, message: consuming ByteBuffer, connection: ConnectionInfo) async -> Result<String, SMTPReply>
    /// Checks the envelope sender of an unauthenticated session (SPF at MAIL FROM).
    func checkSender(_ sender: ReversePath, heloName: String, connection: ConnectionInfo) async -> SenderVerdict
    /// The same as `accept(envelope:message:connection:)` for a message that was written to disk as it
    /// arrived (`SMTPServerSettings.spill`). The file is removed when this returns.
    func accept(envelope: Envelope, spilled: SpilledMessage, connection: ConnectionInfo) async -> Result<String, SMTPReply>
}

extension SMTPServerDelegate {
    /// Reads the message into memory and accepts it as usual (for delegates that do not stream).
    public func accept(envelope: Envelope, spilled: SpilledMessage, connection: ConnectionInfo) async -> Result<String, SMTPReply> {
        let message: ByteBuffer
        do { message = try await NIOThreadPool.singleton.runIfActive { try spilled.readWhole() } } catch {
            return .failure(.c451LocalError)
        }
        return await accept(envelope: envelope, message: message, connection: connection)
    }
}

extension SMTPServerDelegate {
    public func checkSender(_ sender: ReversePath, heloName: String, connection: ConnectionInfo) async -> SenderVerdict {
        SenderVerdict()
    }
}

/// Per-listener settings of the shell.
public struct SMTPServerSettings: Sendable {
    public var session: SessionConfiguration
    public var maxCommandLineBytes: Int
    public var commandTimeout: TimeAmount
    public var dataTimeout: TimeAmount
    /// Bytes per second a client must keep up during DATA: each read moves the DATA deadline on by its
    /// size divided by this rate, capped at `dataTimeout` from now.
    public var minDataRate: Int
    /// Delay before answering a failed AUTH, to slow down guessing.
    public var authFailureDelay: TimeAmount
    /// Large messages go to disk as they arrive (nil: every message is held in memory).
    public var spill: DataSpillPolicy?

    public init(session: SessionConfiguration, maxCommandLineBytes: Int = 4096,
                commandTimeout: TimeAmount = .minutes(5), dataTimeout: TimeAmount = .minutes(10),
                minDataRate: Int = 500, authFailureDelay: TimeAmount = .seconds(1)) {
        self.session = session
        self.maxCommandLineBytes = maxCommandLineBytes
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.minDataRate = max(1, minDataRate)
        self.authFailureDelay = authFailureDelay
    }
}

/// Sent through every open connection's pipeline when the server stops: the handler answers `421` and
/// closes (at once, or after the step it is waiting for, such as a queue write).
public struct SMTPServerShutdown: Sendable {
    public init() {}
}
