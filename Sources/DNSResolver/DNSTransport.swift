import DNSCore
import NIOCore
import NIOPosix

/// What one exchange with one server produced.
enum DNSExchangeResult: Sendable {
    case reply(DNSMessage)
    case timeout
    /// The server sent something for our query that could not be decoded (or TCP failed).
    case malformed(String)
}

/// One query/response exchange over UDP or TCP (RFC 1035 §4.2, RFC 7766). A new UDP socket per query,
/// bound to an OS-chosen port, gives a random source port (RFC 5452 §9.2). A UDP reply counts only when
/// it comes from the server's address and port, carries our id and repeats our question; anything else is
/// ignored and we keep waiting until the timeout (RFC 5452 §4). A server on the loopback interface is asked
/// over a shared socket instead (`LoopbackUDPSockets`, where the reason is).
struct DNSTransport: Sendable {
    let group: any EventLoopGroup
    let loopback = LoopbackUDPSockets()
    /// The group's loops, to tell whether the caller runs on one of them.
    private let loops: Set<ObjectIdentifier>

    init(group: any EventLoopGroup) {
        self.group = group
        self.loops = Set(group.makeIterator().map { ObjectIdentifier($0) })
    }

    /// The loop that sends a query and reads its reply: the caller's own when it runs on one of the group's
    /// loops (an SMTP session's checks do), so that the reply resumes the caller without waking another
    /// thread; otherwise the group's next.
    var eventLoop: any EventLoop {
        if let current = MultiThreadedEventLoopGroup.currentEventLoop, loops.contains(ObjectIdentifier(current)) {
            return current
        }
        return group.next()
    }

    func udp(_ query: DNSMessage, to server: SocketAddress, timeout: TimeAmount) async -> DNSExchangeResult {
        let eventLoop = self.eventLoop
        if LoopbackUDPSockets.isLoopback(server) {
            return await loopback.exchange(query, to: server, timeout: timeout, on: eventLoop)
        }
        let promise = eventLoop.makePromise(of: DNSExchangeResult.self)
        // EDNS0 asks for at most 1232 bytes; room for servers that send more than they were asked.
        let bootstrap = DatagramBootstrap(group: eventLoop)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 4096))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        DNSUDPReplyHandler(server: server, query: query, timeout: timeout, promise: promise))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: server.protocol == .inet6 ? "::" : "0.0.0.0", port: 0).get()
        } catch {
            let result = DNSExchangeResult.malformed("cannot open UDP socket: \(error)")
            promise.succeed(result)  // a promise must not be dropped unfulfilled
            return result
        }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: query.encoded())).whenFailure { error in
            promise.succeed(.malformed("UDP send to \(server) failed: \(error)"))
        }
        let result = (try? await promise.futureResult.get()) ?? .timeout
        try? await channel.close()
        return result
    }

    func tcp(_ query: DNSMessage, to server: SocketAddress, timeout: TimeAmount) async -> DNSExchangeResult {
        let eventLoop = self.eventLoop
        let promise = eventLoop.makePromise(of: DNSExchangeResult.self)
        let timer = eventLoop.scheduleTask(in: timeout) { promise.succeed(.timeout) }
        defer { timer.cancel() }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DNSTCPReplyHandler(query: query, promise: promise))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(to: server).get()
        } catch {
            let result: DNSExchangeResult = error is ChannelError
                ? .timeout : .malformed("TCP connect to \(server) failed: \(error)")
            promise.succeed(result)  // a promise must not be dropped unfulfilled
            return result
        }
        channel.writeAndFlush(DNSStreamFramer.frame(query.encoded())).whenFailure { error in
            promise.succeed(.malformed("TCP send to \(server) failed: \(error)"))
        }
        let result = (try? await promise.futureResult.get()) ?? .timeout
        try? await channel.close()
        return result
    }

    /// Whether `reply` answers `query` (RFC 5452 §4.1: id, and question name, type and class).
    static func matches(_ reply: DNSMessage, _ query: DNSMessage) -> Bool {
        reply.header.isResponse && reply.header.id == query.header.id && reply.questions == query.questions
    }

    /// The id field of an undecodable reply, to tell "our server sent garbage" from noise.
    static func id(of buffer: ByteBuffer) -> UInt16? { buffer.getInteger(at: buffer.readerIndex) }
}

/// Waits on the query's UDP socket for the one datagram that answers it.
final class DNSUDPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let server: SocketAddress
    let query: DNSMessage
    let timeout: TimeAmount
    let promise: EventLoopPromise<DNSExchangeResult>
    var undecodable: String?
    var timer: Scheduled<Void>?

    init(server: SocketAddress, query: DNSMessage, timeout: TimeAmount, promise: EventLoopPromise<DNSExchangeResult>) {
        self.server = server
        self.query = query
        self.timeout = timeout
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) { bound.value.expire() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        expire()
    }

    /// The wait is over: a reply that was ours but undecodable beats silence.
    func expire() {
        promise.succeed(undecodable.map(DNSExchangeResult.malformed) ?? .timeout)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == server else { return }  // spoofed or stray: ignore
        do {
            let reply = try DNSMessage(decoding: envelope.data)
            guard DNSTransport.matches(reply, query) else { return }
            promise.succeed(.reply(reply))
        } catch {
            if DNSTransport.id(of: envelope.data) == query.header.id { undecodable = "\(error)" }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        expire()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable surfaces here on Linux; keep waiting for the timer like a lost datagram.
    }
}

/// Reads one length-prefixed reply from a TCP connection (RFC 1035 §4.2.2).
final class DNSTCPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let query: DNSMessage
    let promise: EventLoopPromise<DNSExchangeResult>
    var framer = DNSStreamFramer()

    init(query: DNSMessage, promise: EventLoopPromise<DNSExchangeResult>) {
        self.query = query
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(unwrapInboundIn(data))
        guard let frame = framer.nextFrame() else { return }
        do {
            let reply = try DNSMessage(decoding: frame)
            promise.succeed(DNSTransport.matches(reply, query)
                ? .reply(reply) : .malformed("TCP reply does not match the query"))
        } catch {
            promise.succeed(.malformed("\(error)"))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed(.malformed("TCP connection closed before a complete reply"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(.malformed("TCP error: \(error)"))
        context.close(promise: nil)
    }
}
