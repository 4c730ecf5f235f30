#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOTLS
import SMTPProtocol

/// One SMTP connection on the event loop.
///
/// The handler owns its input buffer and framing (not `ByteToMessageHandler`) so that, on
/// STARTTLS, every plaintext byte the client pipelined after the command is discarded before the
/// TLS handler is inserted (RFC 3207 §6, CVE-2011-0411). While an asynchronous step is running
/// (checking a password, writing the queue) reading stops, so pipelined commands wait their turn.
///
/// Timeouts are deadlines, not idle timers (Postfix's `smtpd_per_request_deadline`): a command line must be
/// complete within `commandTimeout` of the previous one, however its bytes trickle in, and during DATA each
/// read only earns `bytes / minDataRate` seconds, never more than `dataTimeout` from now. A client sending
/// one byte every few seconds cannot hold a connection open.
public final class SMTPServerHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    var session: SMTPSession
    private var framer: LineFramer
    var dataDecoder: DataDecoder?
    private var buffer: ByteBuffer
    var waiting = false
    /// Reading is off: more than `maxBufferedWhileWaiting` arrived while an asynchronous step ran.
    var readingStopped = false
    private var closing = false
    private var tlsContext: NIOSSLContext?
    var info: ConnectionInfo
    let settings: SMTPServerSettings
    let delegate: any SMTPServerDelegate
    var logger: Logger
    private var timeout: Scheduled<Void>?
    private var deadline = NIODeadline.distantFuture
    /// When the scheduled timer fires (at or before `deadline`); nil when none is scheduled.
    private var timerDeadline: NIODeadline?
    private var greeted = false
    var shuttingDown = false
    /// The DATA in progress is being written to disk (`SMTPServerHandler+Spill.swift`).
    var spill: DataSpill?
    /// Bytes of the DATA in progress counted against the spill policy's memory budget.
    var charged = 0
    /// Bytes of a finished DATA still counted until its enqueue ends.
    var pendingCharge = 0

    public init(settings: SMTPServerSettings, policy: any SessionPolicy, delegate: any SMTPServerDelegate,
                tlsContext: NIOSSLContext?, info: ConnectionInfo, logger: Logger) {
        var sessionConfig = settings.session
        sessionConfig.tlsAvailable = tlsContext != nil
        self.session = SMTPSession(configuration: sessionConfig, policy: policy)
        self.framer = LineFramer(maxLineBytes: settings.maxCommandLineBytes)
        self.buffer = Self.noInput
        self.settings = settings
        self.delegate = delegate
        self.tlsContext = tlsContext
        self.info = info
        self.logger = logger
        self.logger[metadataKey: "conn"] = "\(info.id)"
    }

    public func channelActive(context: ChannelHandlerContext) {
        logger.info("connect from \(info.remoteAddress) on \(info.listener.rawValue) \(info.localAddress)")
        resetTimeout(context: context, settings.commandTimeout)
        // Port 465 greets only after the TLS handshake (userInboundEventTriggered).
        if info.listener != .submissions { greet(context: context) }
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cancelTimeout()
        abandonData()
        logger.info("disconnect from \(info.remoteAddress)")
        context.fireChannelInactive()
    }

    private func greet(context: ChannelHandlerContext) {
        guard !greeted else { return }
        greeted = true
        perform(session.start(), context: context)
        context.flush()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is SMTPServerShutdown {
            shuttingDown = true
            if !waiting { closeForShutdown(context: context) }   // else after the step in progress
            return
        }
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            let version = (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?.tlsVersion
            info.tlsVersion = version.map(Self.name)
            logger.debug("TLS handshake completed: \(info.tlsVersion ?? "?")")
            perform(session.tlsEstablished(), context: context)
            if info.listener == .submissions { greet(context: context) }
            waiting = false
            resumeReading(context: context)
            processBuffer(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard !closing else { return }
        if dataDecoder != nil { extendDataDeadline(context: context, bytes: incoming.readableBytes) }
        // Nothing left over from the last read (the usual case): this read's buffer becomes the input as it
        // is, instead of being copied into ours — a message's bytes arrive in it.
        if buffer.readableBytes == 0 { buffer = incoming } else { buffer.writeBuffer(&incoming) }
        if waiting {
            if !readingStopped, buffer.readableBytes > Self.maxBufferedWhileWaiting {
                readingStopped = true
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            }
            return
        }
        processBuffer(context: context)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let ssl = error as? NIOSSLError, case .uncleanShutdown = ssl {
            // The client closed without close_notify: common and harmless.
        } else if let io = error as? IOError, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE {
            // The client went away without waiting (many do right after QUIT): a transcript detail.
            logger.debug("connection closed by \(info.remoteAddress): \(String(cString: strerror(io.errnoCode)))")
        } else {
            logger.notice("connection error from \(info.remoteAddress): \(error)")
        }
        closing = true
        context.close(promise: nil)
    }

    /// Runs framing and the session over the buffered input until it is used up or an
    /// asynchronous step must finish first.
    func processBuffer(context: ChannelHandlerContext) {
        while !waiting && !closing {
            if dataDecoder != nil {
                guard let outcome = dataDecoder!.decode(&buffer) else {
                    spillIfDue(context: context)
                    break
                }
                dataDecoder = nil
                pendingCharge = charged
                charged = 0
                logger.debug("-> [message: \(outcome.size) bytes\(outcome.violation.map { ", \($0)" } ?? "")\(outcome.oversized ? ", oversized" : "")]")
                resetTimeout(context: context, settings.commandTimeout)
                let before = session
                let actions = session.dataReceived(outcome)
                logRefusal(actions, verb: "DATA", envelope: before.envelopeForLog)
                perform(actions, context: context)
                dataFinished()
                continue
            }
            guard let event = framer.next(&buffer) else { break }
            resetTimeout(context: context, settings.commandTimeout)   // the next line's deadline
            switch event {
            case .line(let line):
                logger.debug("-> \(session.loggable(line))")
                let before = session
                let actions = session.receive(line: line)
                let verb = { before.expectsSecret ? "AUTH" : Self.verb(line) }
                logRefusal(actions, verb: verb(), envelope: Self.envelope(before.envelopeForLog, verb: verb(), line: line))
                perform(actions, context: context)
            case .tooLong:
                logger.debug("-> [line longer than \(settings.maxCommandLineBytes) bytes]")
                perform(session.lineTooLong(), context: context)
            }
        }
        if buffer.readableBytes == 0 {
            // Used up: the read's buffer is let go (the next read brings its own), so that an idle
            // connection holds none; `noInput` is one shared empty buffer, nothing is allocated.
            buffer = Self.noInput
        } else if buffer.readerIndex > 64 * 1024 {
            buffer.discardReadBytes()
        }
        context.flush()
    }

    func perform(_ actions: [SessionAction], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .reply(let reply):
                write(reply, context: context)
            case .startTLS:
                startTLS(context: context)
            case .receiveData(let maxBytes, let declaredSize):
                // A declared size past the spill threshold would be written to disk anyway: no need to reserve it.
                let expected = declaredSize.map { min($0, settings.spill?.thresholdBytes ?? $0) }
                dataDecoder = DataDecoder(maxBytes: maxBytes, expectedBytes: expected, headroom: Self.traceHeadroom,
                                          allocator: context.channel.allocator)
                resetTimeout(context: context, settings.dataTimeout)
            case .verifyCredentials(let username, let password):
                pause(context: context)
                let delegate = self.delegate, info = self.info
                let delay = settings.authFailureDelay
                let checked = onLoop(context) { await delegate.authenticate(username: username, password: password, connection: info) }
                checked.assumeIsolated().whenSuccess { outcome in
                    let mechanism = self.session.authMechanism ?? "?"
                    if case .success(let user) = outcome {
                        self.logger.info("AUTH \(mechanism) ok user=\(user) from \(self.info.remoteAddress)")
                        self.resume(self.session.authChecked(outcome), context: context)
                    } else {
                        self.logger.notice("AUTH \(mechanism) failed user=\(username) from \(self.info.remoteAddress): \(Self.reason(outcome))")
                        context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                            self.resume(self.session.authChecked(outcome), context: context)
                        }
                    }
                }
            case .enqueue(let envelope, let message):
                pause(context: context)
                let delegate = self.delegate, info = self.info
                let promise = context.eventLoop.makePromise(of: Result<String, SMTPReply>.self)
                if let spill {
                    self.spill = nil
                    enqueueSpilled(spill, tail: message, envelope: envelope, promise: promise, context: context)
                } else {
                    // Handed over, not shared: the delegate puts the trace fields in front of the message in
                    // place only when nobody else holds it (the closure's capture would, without the box).
                    let handover = NIOLockedValueBox<ByteBuffer?>(message)
                    promise.completeWith(onLoop(context) {
                        let message = handover.withLockedValue { held in
                            defer { held = nil }
                            return held ?? ByteBuffer()
                        }
                        return await delegate.accept(envelope: envelope, message: consume message, connection: info)
                    })
                }
                let (before, charge) = (session, pendingCharge)
                pendingCharge = 0
                promise.futureResult.hop(to: context.eventLoop).assumeIsolated().whenSuccess { result in
                    self.settings.spill?.budget.release(charge)
                    switch result {
                    case .success(let id): self.resume(self.session.enqueued(id: id), context: context)
                    case .failure(let reply):
                        let actions = self.session.enqueueFailed(reply)
                        self.logRefusal(actions, verb: "DATA", envelope: before.envelopeForLog)
                        self.resume(actions, context: context)
                    }
                }
            case .checkSender(let sender, let heloName):
                pause(context: context)
                let delegate = self.delegate, info = self.info
                let verdict = onLoop(context) { await delegate.checkSender(sender, heloName: heloName, connection: info) }
                verdict.assumeIsolated().whenSuccess { verdict in
                    let actions = self.session.senderChecked(verdict)
                    self.logRefusal(actions, verb: "MAIL", envelope: "from=\(sender)")
                    self.resume(actions, context: context)
                }
            case .close:
                closing = true
                cancelTimeout()
                context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
                return
            }
        }
    }

    /// Runs a delegate call as a task on this connection's event loop (`EventLoopTaskExecutor`): its awaits
    /// resume here, and so does the reply, without a trip through the global pool.
    private func onLoop<T: Sendable>(_ context: ChannelHandlerContext,
                                     _ body: @escaping @Sendable () async -> T) -> EventLoopFuture<T> {
        let promise = context.eventLoop.makePromise(of: T.self)
        Task(executorPreference: EventLoopTaskExecutor.of(context.eventLoop)) { promise.succeed(await body()) }
        return promise.futureResult
    }

    /// The server is stopping: `421` and close (RFC 5321 §3.8), after any reply already due.
    func closeForShutdown(context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        cancelTimeout()
        logger.info("closing connection from \(info.remoteAddress): server shutting down")
        write(.c421Closing(settings.session.hostname, "shutting down"), context: context)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// An asynchronous step (a check, the queue write, AUTH, a spill write) starts: commands are not processed
    /// until it ends. What the client sends meanwhile is read and kept in order (`channelRead`), up to
    /// `maxBufferedWhileWaiting`; only past that does reading stop. Turning reading off and on for every
    /// such step cost two `epoll_ctl` calls and two futures a step, four steps a message.
    func pause(context: ChannelHandlerContext) {
        waiting = true
        context.flush()
    }

    /// Input kept while an asynchronous step runs before reading stops until it ends (a client may
    /// pipeline; none needs this much).
    static let maxBufferedWhileWaiting = 64 * 1024
    /// Free space the DATA decoder leaves in front of a message for the trace fields the server adds
    /// (`Received:`, `Received-SPF:`, `Authentication-Results:`, usually 400–900 bytes), so that they are put
    /// there without copying the message (`ByteBuffer.prepend`).
    static let traceHeadroom = 2048
    /// The input of a connection with nothing unread: one empty buffer shared by all (no storage per connection).
    static let noInput = ByteBuffer()

    /// Reading stopped by `channelRead` (too much input while waiting) starts again.
    func resumeReading(context: ChannelHandlerContext) {
        guard readingStopped else { return }
        readingStopped = false
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
    }

    private func resume(_ actions: [SessionAction], context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        waiting = false
        perform(actions, context: context)
        if shuttingDown {
            closeForShutdown(context: context)
            return
        }
        resumeReading(context: context)
        resetTimeout(context: context, settings.commandTimeout)
        processBuffer(context: context)
    }

    private func startTLS(context: ChannelHandlerContext) {
        guard let tlsContext else { return }
        // The 220 is written and flushed in plaintext before the TLS handler exists.
        context.flush()
        let dropped = buffer.readableBytes
        if dropped > 0 {
            logger.notice("dropped \(dropped) plaintext bytes pipelined after STARTTLS from \(info.remoteAddress)")
        }
        buffer.clear()
        waiting = true   // until the handshake completes
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
        } catch {
            logger.error("cannot start TLS: \(error)")
            closing = true
            context.close(promise: nil)
        }
    }

    private func write(_ reply: SMTPReply, context: ChannelHandlerContext) {
        logger.debug("<- \(reply)")
        var out = context.channel.allocator.buffer(capacity: 64)
        reply.writeWire(into: &out)
        context.write(wrapOutboundOut(out), promise: nil)
    }

    private func cancelTimeout() {
        timeout?.cancel()
        timeout = nil
        timerDeadline = nil
    }

    private func resetTimeout(context: ChannelHandlerContext, _ amount: TimeAmount) {
        schedule(deadline: .now() + amount, context: context)
    }

    /// DATA earns time by the bytes it brings (`minDataRate`), never more than `dataTimeout` from now.
    private func extendDataDeadline(context: ChannelHandlerContext, bytes: Int) {
        let credit = TimeAmount.nanoseconds(Int64(bytes) * 1_000_000_000 / Int64(settings.minDataRate))
        schedule(deadline: min(deadline + credit, .now() + settings.dataTimeout), context: context)
    }

    /// Moves the deadline. The timer is not re-armed when it already fires earlier: it re-arms itself for
    /// the deadline then (a command line moves the deadline later, and cancelling and scheduling a timer at
    /// each of the six or seven lines of a message cost 1.5% of the server's time under load).
    private func schedule(deadline: NIODeadline, context: ChannelHandlerContext) {
        self.deadline = deadline
        if let armed = timerDeadline, armed <= deadline { return }
        cancelTimeout()
        arm(at: deadline, context: context)
    }

    private func arm(at when: NIODeadline, context: ChannelHandlerContext) {
        timerDeadline = when
        timeout = context.eventLoop.assumeIsolated().scheduleTask(deadline: when) {
            self.timerDeadline = nil
            guard !self.closing else { return }
            if NIODeadline.now() < self.deadline {
                self.arm(at: self.deadline, context: context)
                return
            }
            let phase = self.dataDecoder == nil ? "command line not complete in time" : "message data too slow"
            self.logger.notice("timeout (\(phase)), closing connection from \(self.info.remoteAddress)")
            self.perform(self.session.timedOut(), context: context)
        }
    }

    static func name(_ v: TLSVersion) -> String {
        switch v {
        case .tlsv1: return "TLSv1.0"
        case .tlsv11: return "TLSv1.1"
        case .tlsv12: return "TLSv1.2"
        case .tlsv13: return "TLSv1.3"
        }
    }
}
