import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Bounds on every connection of a listener that must not be a way to tie the server up (the admin
/// listener): the bytes a client may send, the time a connection may stay open, how many may be open at
/// once, and one request per connection. A connection over a limit is closed without an answer.
public struct HTTPConnectionLimits: Sendable {
    /// Bytes a client may send on one connection (request line, headers and body together).
    public var maxRequestBytes: Int
    /// From accept to close; slower clients are cut off.
    public var timeout: TimeAmount
    /// Connections open at once; more are closed at accept.
    public var maxConnections: Int
    /// Connections open now, shared by every address of the listener.
    let open = OpenConnections()

    public init(maxRequestBytes: Int, timeout: TimeAmount, maxConnections: Int) {
        self.maxRequestBytes = maxRequestBytes
        self.timeout = timeout
        self.maxConnections = maxConnections
    }
}

final class OpenConnections: Sendable {
    let count = Mutex(0)
}

/// HTTP/1.1 behind `HTTPConnectionLimits`: the byte limit sits in front of the HTTP decoder, so it also
/// bounds header lines, header count and bodies; after the first response the connection is closed.
struct LimitedHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel
    let limits: HTTPConnectionLimits
    let role: String

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let remote = channel.remoteAddress?.ipAddress ?? "unknown"
        let limits = self.limits, role = self.role
        let admitted = limits.open.count.withLock { count in
            guard count < limits.maxConnections else { return false }
            count += 1
            return true
        }
        guard admitted else {
            logger.notice("\(role): closed connection from \(remote): \(limits.maxConnections) already open")
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionRefused())
        }
        let deadline = channel.eventLoop.scheduleTask(in: limits.timeout) {
            logger.notice("\(role): closed connection from \(remote): not done within \(limits.timeout)")
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in
            deadline.cancel()
            limits.open.count.withLock { $0 -= 1 }
        }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                RequestSizeLimit(maxBytes: limits.maxRequestBytes, role: role, remote: remote, logger: logger))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            // Right behind the response encoder, where a response is still HTTP parts.
            let operations = channel.pipeline.syncOperations
            try operations.addHandler(CloseAfterResponse(), position: .after(try operations.handler(type: HTTPResponseEncoder.self)))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }

    struct ConnectionRefused: Error {}
}

extension HTTPServerBuilder {
    /// HTTP/1.1 behind `LimitedHTTPChannel`.
    static func limited(_ limits: HTTPConnectionLimits, role: String) -> HTTPServerBuilder {
        .init { responder in
            LimitedHTTPChannel(
                base: HTTP1Channel(responder: responder),
                limits: limits, role: role)
        }
    }
}

/// Closes a connection that sends more than `maxBytes` in all.
final class RequestSizeLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var remaining: Int
    private let maxBytes: Int
    private let role: String
    private let remote: String
    private let logger: Logger

    init(maxBytes: Int, role: String, remote: String, logger: Logger) {
        self.remaining = maxBytes
        self.maxBytes = maxBytes
        self.role = role
        self.remote = remote
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard remaining >= 0 else { return }
        remaining -= unwrapInboundIn(data).readableBytes
        guard remaining >= 0 else {
            logger.notice("\(role): closed connection from \(remote): more than \(maxBytes) bytes sent")
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}

/// One request per connection: once a response's end is written the connection is closed, so a client
/// that reads until the close (a scraper, `curl`) is done at once and nothing is kept between requests.
final class CloseAfterResponse: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.cascade(to: promise)
        let channel = context.channel
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        context.write(data, promise: written)
    }
}
