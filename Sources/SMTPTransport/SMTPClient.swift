import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SMTPProtocol

/// The client side of SMTP (RFC 5321), used by the remote courier and `apus send`.
///
/// One `SMTPClientConnection` is one TCP connection. Replies are framed on the event loop by
/// `SMTPReplyHandler` (multi-line replies `250-…` / `250 …` joined into one `SMTPClientReply`); async code
/// sends commands and awaits replies in order, which is all PIPELINING needs: write several commands, then
/// read as many replies. Every wait has a timeout (RFC 5321 §4.5.3.2) that closes the connection when it
/// fires. STARTTLS (RFC 3207) inserts `NIOSSLClientHandler` in front of the pipeline after the `220`; the
/// server sends nothing until our ClientHello, so no plaintext can be mistaken for TLS data.

/// Waits of the client, RFC 5321 §4.5.3.2 minimums by default.
public struct SMTPClientTimeouts: Sendable, Hashable {
    /// TCP connect (not in the RFC; a dead address should not hold a delivery for minutes).
    public var connect: TimeAmount
    /// §4.5.3.2.1 initial 220: 5 minutes.
    public var greeting: TimeAmount
    /// EHLO, STARTTLS, RSET, QUIT and the TLS handshake (5 minutes, like MAIL).
    public var command: TimeAmount
    /// §4.5.3.2.2 MAIL: 5 minutes. §4.5.3.2.3 RCPT: 5 minutes.
    public var mailAndRcpt: TimeAmount
    /// §4.5.3.2.4 DATA initiation (the 354): 2 minutes.
    public var dataInitiation: TimeAmount
    /// §4.5.3.2.5 data block: 3 minutes for each write of the message to complete.
    public var dataBlock: TimeAmount
    /// §4.5.3.2.6 DATA termination (the reply after `.`): 10 minutes.
    public var dataTermination: TimeAmount

    public init(connect: TimeAmount = .seconds(30), greeting: TimeAmount = .minutes(5), command: TimeAmount = .minutes(5),
                mailAndRcpt: TimeAmount = .minutes(5), dataInitiation: TimeAmount = .minutes(2),
                dataBlock: TimeAmount = .minutes(3), dataTermination: TimeAmount = .minutes(10)) {
        self.connect = connect
        self.greeting = greeting
        self.command = command
        self.mailAndRcpt = mailAndRcpt
        self.dataInitiation = dataInitiation
        self.dataBlock = dataBlock
        self.dataTermination = dataTermination
    }

    /// The same timeout everywhere (tests).
    public static func all(_ t: TimeAmount) -> SMTPClientTimeouts {
        SMTPClientTimeouts(connect: t, greeting: t, command: t, mailAndRcpt: t, dataInitiation: t, dataBlock: t,
                           dataTermination: t)
    }
}

public enum SMTPClientError: Error, Sendable, CustomStringConvertible {
    case connectFailed(String)
    case timeout(String)
    case connectionClosed
    case connectionLost(String)
    case tlsFailed(String)
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .connectFailed(let why): return "connect failed: \(why)"
        case .timeout(let what): return "timeout waiting for \(what)"
        case .connectionClosed: return "connection closed by the server"
        case .connectionLost(let why): return "connection lost: \(why)"
        case .tlsFailed(let why): return "TLS handshake failed: \(why)"
        case .protocolViolation(let why): return "protocol error: \(why)"
        }
    }
}

/// One outbound SMTP connection.
public final class SMTPClientConnection: Sendable {
    public let channel: any Channel
    let handler: NIOLoopBound<SMTPReplyHandler>
    /// "192.0.2.1" or "2001:db8::1".
    public let remoteIP: String
    public let timeouts: SMTPClientTimeouts
    let logger: Logger?

    init(channel: any Channel, handler: NIOLoopBound<SMTPReplyHandler>, remoteIP: String, timeouts: SMTPClientTimeouts,
         logger: Logger?) {
        self.channel = channel
        self.handler = handler
        self.remoteIP = remoteIP
        self.timeouts = timeouts
        self.logger = logger
    }

    /// Connects to `ip`:`port` (an IP literal; no name resolution here).
    /// `source`: our address to connect from (`[delivery] source_ipv4` / `source_ipv6`); nil lets the kernel
    /// choose.
    public static func connect(ip: String, port: Int, timeouts: SMTPClientTimeouts = SMTPClientTimeouts(),
                               group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                               source: String? = nil, logger: Logger? = nil) async throws -> SMTPClientConnection {
        let address: SocketAddress
        do { address = try SocketAddress(ipAddress: ip, port: port) } catch {
            throw SMTPClientError.connectFailed("\(ip) is not an IP address")
        }
        var bootstrap = ClientBootstrap(group: group)
        if let source {
            do { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) } catch {
                throw SMTPClientError.connectFailed("source address \(source) is not an IP address")
            }
        }
        do {
            let (channel, handler) = try await bootstrap
                .connectTimeout(timeouts.connect)
                .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
                .connect(to: address) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = SMTPReplyHandler()
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return (channel, NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    }
                }
            return SMTPClientConnection(channel: channel, handler: handler, remoteIP: ip, timeouts: timeouts, logger: logger)
        } catch {
            throw SMTPClientError.connectFailed("\(ip) port \(port): \(Self.describeConnectError(error))")
        }
    }

    /// A connect error as a log line or a DSN should say it: "Connection refused", "timed out after 30 s",
    /// rather than NIO's description of the IOError (which repeats itself and leaves a stray parenthesis).
    static func describeConnectError(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if case ChannelError.connectTimeout(let amount) = error {
            return "timed out after \(amount.nanoseconds / 1_000_000_000) s"
        }
        return "\(error)"
    }

    /// Awaits the next reply. On timeout the connection is closed and `SMTPClientError.timeout` thrown.
    /// Task cancellation (graceful shutdown) closes the connection too.
    public func readReply(timeout: TimeAmount, waitingFor what: String) async throws -> SMTPClientReply {
        let promise = channel.eventLoop.makePromise(of: SMTPClientReply.self)
        let handler = self.handler
        if channel.eventLoop.inEventLoop {
            handler.value.expect(promise, timeout: timeout, what: what)
        } else {
            channel.eventLoop.execute { handler.value.expect(promise, timeout: timeout, what: what) }
        }
        let channel = self.channel
        let reply = try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        logger?.debug("<- \(reply)")
        return reply
    }

    /// Writes command lines (CRLF added) in one flush: one line, or several when pipelining.
    public func send(_ lines: [String]) async throws {
        var buffer = channel.allocator.buffer(capacity: lines.reduce(0) { $0 + $1.utf8.count + 2 })
        for line in lines {
            logger?.debug("-> \(line.hasPrefix("AUTH") ? "AUTH …" : line)")
            buffer.writeString(line)
            buffer.writeString("\r\n")
        }
        try await write(buffer, timeout: timeouts.command)
    }

    /// Sends one command and awaits its reply.
    public func command(_ line: String, timeout: TimeAmount? = nil) async throws -> SMTPClientReply {
        try await send([line])
        return try await readReply(timeout: timeout ?? timeouts.command, waitingFor: "the reply to \(line.split(separator: " ").first ?? "")")
    }

    /// Sends a line that carries a secret (an AUTH LOGIN user name or password) and awaits the reply; the
    /// line is never logged or named in an error.
    public func secretCommand(_ line: String) async throws -> SMTPClientReply {
        var buffer = channel.allocator.buffer(capacity: line.utf8.count + 2)
        logger?.debug("-> (AUTH data)")
        buffer.writeString(line)
        buffer.writeString("\r\n")
        try await write(buffer, timeout: timeouts.command)
        return try await readReply(timeout: timeouts.command, waitingFor: "the reply to AUTH")
    }

    /// Writes the message after a `354`: dot-stuffed (RFC 5321 §4.5.2), ending in CRLF, then `.` CRLF.
    /// Bare LF line ends are turned into CRLF.
    /// Nearly every message goes out as slices of itself (`dotStuffedPieces`), gathered by one `writev`;
    /// one with many lines to change is copied with the changes (`dotStuff`).
    public func sendMessage(_ message: ByteBuffer) async throws {
        logger?.debug("-> (message, \(message.readableBytes) bytes) .")
        if var pieces = Self.dotStuffedPieces(message) {
            pieces.append(Self.endOfData)
            return try await write(pieces, timeout: timeouts.dataBlock)
        }
        var out = channel.allocator.buffer(capacity: message.readableBytes + message.readableBytes / 50 + 8)
        Self.dotStuff(message, into: &out)
        out.writeBytes(Self.endOfData.readableBytesView)
        try await write(out, timeout: timeouts.dataBlock)
    }

    static let endOfData = ByteBuffer(string: ".\r\n")

    /// What `dotStuff` writes, as pieces: the runs of `message` that need no change as slices of it (no copy),
    /// and between them the bytes added (a "." before a line's leading dot, a CR before a bare LF, the last
    /// line's CRLF). Nil when that takes more than `maxPieces` pieces (a message of many short lines starting
    /// with a dot, or with bare LFs: copying it once is then cheaper than a long gather list).
    public static func dotStuffedPieces(_ message: ByteBuffer, maxPieces: Int = 64) -> [ByteBuffer]? {
        var pieces: [ByteBuffer] = []
        let base = message.readerIndex
        let complete = message.withUnsafeReadableBytes { bytes in
            dotStuffScan(bytes) { piece in
                switch piece {
                case .unchanged(let range): pieces.append(message.getSlice(at: base + range.lowerBound, length: range.count)!)
                case .added(let bytes): pieces.append(bytes)
                }
                return pieces.count <= maxPieces
            }
        }
        return complete ? pieces : nil
    }

    /// `message` as DATA content (without the final "."): a leading "." doubled (RFC 5321 §4.5.2), a bare LF
    /// made CRLF, the last line ended with CRLF. Runs of lines that need none of that — nearly all of a
    /// message — are copied in one piece (copying line by line cost more than the rest of the delivery for a
    /// 100 KB message).
    public static func dotStuff(_ message: ByteBuffer, into out: inout ByteBuffer) {
        message.withUnsafeReadableBytes { bytes in
            _ = dotStuffScan(bytes) { piece in
                switch piece {
                case .unchanged(let range): out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[range]))
                case .added(let added): out.writeImmutableBuffer(added)
                }
                return true
            }
        }
    }

    enum DotStuffPiece {
        /// Bytes of the message (offsets into what was scanned) that go out as they are.
        case unchanged(Range<Int>)
        /// Bytes added between them.
        case added(ByteBuffer)
    }

    static let addedDot = ByteBuffer(string: ".")
    static let addedLF = ByteBuffer(string: "\n")
    static let addedCRLF = ByteBuffer(string: "\r\n")

    /// The scan behind `dotStuff` and `dotStuffedPieces`: hands `emit` the message's pieces in order; stops
    /// early, returning false, when `emit` does.
    static func dotStuffScan(_ bytes: UnsafeRawBufferPointer, _ emit: (DotStuffPiece) -> Bool) -> Bool {
        let (cr, lf, dot) = (UInt8(13), UInt8(10), UInt8(ascii: "."))
        let count = bytes.count
        var spanStart = 0   // bytes[spanStart...] not emitted yet, and needing no change so far
        var lineStart = 0
        func unchanged(to end: Int) -> Bool { end <= spanStart || emit(.unchanged(spanStart..<end)) }
        while lineStart < count {
            if bytes[lineStart] == dot {
                guard unchanged(to: lineStart), emit(.added(addedDot)) else { return false }
                spanStart = lineStart
            }
            let end = ByteScan.first(lf, in: bytes, from: lineStart)
            let endsWithCR = end > lineStart && bytes[end - 1] == cr
            if end == count || !endsWithCR {
                guard unchanged(to: end), emit(.added(endsWithCR ? addedLF : addedCRLF)) else { return false }
                spanStart = min(end + 1, count)
            }
            lineStart = end + 1
        }
        return unchanged(to: count)
    }

    func write(_ buffer: ByteBuffer, timeout: TimeAmount) async throws {
        try await write([buffer], timeout: timeout)
    }

    /// `buffers` in order, flushed once (NIO gathers them into `writev` calls). A write nearly always completes
    /// at once (the socket takes it all): only one still pending gets a timer (`timeout`), instead of a timer
    /// scheduled and cancelled for every command and message.
    func write(_ buffers: [ByteBuffer], timeout: TimeAmount) async throws {
        let channel = self.channel
        let done = channel.eventLoop.makePromise(of: Void.self)
        // On the channel's loop, in one go, so that nothing is written between the buffers.
        let writeAll: @Sendable () -> Void = {
            var completed = false
            var timer: Scheduled<Void>?
            done.futureResult.assumeIsolated().whenComplete { _ in
                completed = true
                timer?.cancel()
            }
            for buffer in buffers.dropLast() { channel.write(buffer, promise: nil) }
            channel.writeAndFlush(buffers.last ?? ByteBuffer(), promise: done)
            guard !completed else { return }
            timer = channel.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                done.fail(SMTPClientError.timeout("a write to complete"))
                channel.close(promise: nil)
            }
        }
        if channel.eventLoop.inEventLoop { writeAll() } else { channel.eventLoop.execute(writeAll) }
        do {
            try await withTaskCancellationHandler {
                try await done.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch let error as SMTPClientError {
            throw error
        } catch {
            throw SMTPClientError.connectionClosed
        }
    }

    /// After a `220` to STARTTLS: TLS over this connection. `serverHostname` is checked against the
    /// certificate when `context` verifies. `verification`, when given, replaces the certificate checks
    /// entirely (DANE: the chain is matched against TLSA records instead of a CA store; `context` must then
    /// ask for a peer certificate). Returns the negotiated version ("TLSv1.3").
    public func startTLS(context: NIOSSLContext, serverHostname: String?,
                         verification: (@Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void)? = nil)
        async throws -> String {
        let channel = self.channel, handler = self.handler, timeout = timeouts.command
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute {
            do {
                handler.value.expectHandshake(promise, timeout: timeout)
                let tls = try verification.map {
                    try NIOSSLClientHandler(context: context, serverHostname: serverHostname, customVerificationCallback: $0)
                } ?? NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                try channel.pipeline.syncOperations.addHandler(tls, position: .first)
            } catch {
                promise.fail(SMTPClientError.tlsFailed("\(error)"))
                channel.close(promise: nil)
            }
        }
        try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        let version = try? await channel.nioSSL_tlsVersion().get()
        return version.map(Self.describe) ?? "TLS"
    }

    static func describe(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv1: return "TLSv1"
        case .tlsv11: return "TLSv1.1"
        case .tlsv12: return "TLSv1.2"
        case .tlsv13: return "TLSv1.3"
        }
    }

    /// QUIT (best effort, short wait) and close.
    public func quit() async {
        if channel.isActive {
            _ = try? await send(["QUIT"])
            _ = try? await readReply(timeout: .seconds(5), waitingFor: "QUIT")
        }
        await close()
    }

    public func close() async {
        try? await channel.close()
    }
}

/// Frames replies on the event loop and hands them to waiting async code in order.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var buffer = ByteBuffer()
    /// Framing and limits: the pure `SMTPReplyParser` (SMTPProtocol, fuzzed by FuzzSMTPReply).
    private var parser = SMTPReplyParser()
    private var ready: [SMTPClientReply] = []
    /// Each waiter's deadline is kept with it; one timer serves them all (`armTimer`).
    private var waiters: [(promise: EventLoopPromise<SMTPClientReply>, deadline: NIODeadline, what: String)] = []
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var failure: (any Error)?
    private var handshake: (promise: EventLoopPromise<Void>, timer: Scheduled<Void>?)?
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func expect(_ promise: EventLoopPromise<SMTPClientReply>, timeout: TimeAmount, what: String) {
        if !ready.isEmpty { promise.succeed(ready.removeFirst()); return }
        if let failure { promise.fail(failure); return }
        guard let context else { promise.fail(SMTPClientError.connectionClosed); return }
        let deadline = NIODeadline.now() + timeout
        waiters.append((promise, deadline, what))
        armTimer(at: deadline, context: context)
    }

    /// The timer fires no later than `deadline`. It is not moved when a reply arrives (scheduling and
    /// cancelling one per reply, five or six a relayed message, cost more than the rest of reading them):
    /// when it fires it looks at the waiters left, and fails the connection only for one past its deadline.
    private func armTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        if let armed = timerDeadline, armed <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] () -> Void in
            self?.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard let next = waiters.min(by: { $0.deadline < $1.deadline }) else { return }
        if next.deadline <= NIODeadline.now() {
            fail(SMTPClientError.timeout(next.what))
        } else if let context {
            armTimer(at: next.deadline, context: context)
        }
    }

    func expectHandshake(_ promise: EventLoopPromise<Void>, timeout: TimeAmount) {
        if let failure { promise.fail(failure); return }
        guard let context else { promise.fail(SMTPClientError.connectionClosed); return }
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] () -> Void in
            self?.fail(SMTPClientError.timeout("the TLS handshake"))
        }
        handshake = (promise, timer)
    }

    /// Fails every waiter and closes the connection; later waits fail at once with the same error.
    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
        let waiting = waiters
        waiters = []
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        for waiter in waiting { waiter.promise.fail(failure!) }
        if let handshake {
            self.handshake = nil
            handshake.timer?.cancel()
            handshake.promise.fail(failure!)
        }
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        do {
            while let parsed = try parser.next(&buffer) { deliver(SMTPClientReply(code: parsed.code, lines: parsed.lines)) }
        } catch {
            fail(SMTPClientError.protocolViolation("\(error)"))
            return
        }
        buffer.discardReadBytes()
    }

    /// Hands a complete reply to the first waiter, or keeps it for the next one.
    private func deliver(_ reply: SMTPClientReply) {
        if waiters.isEmpty {
            ready.append(reply)
        } else {
            waiters.removeFirst().promise.succeed(reply)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event, let handshake {
            self.handshake = nil
            handshake.timer?.cancel()
            handshake.promise.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if handshake != nil || error is NIOSSLError {
            fail(SMTPClientError.tlsFailed("\(error)"))
        } else if error is SMTPClientError {
            fail(error)
        } else {
            fail(SMTPClientError.connectionLost("\(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(SMTPClientError.connectionClosed)
        context.fireChannelInactive()
    }
}
