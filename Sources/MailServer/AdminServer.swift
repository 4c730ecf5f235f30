import Config
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The admin HTTP listener, `[listen] admin` (DESIGN.md §3; default `127.0.0.1:8025`): health and metrics
/// for monitoring.
///
///     GET /healthz   200 "ok" while the server runs; 503 "shutting down" once it stops (while the SMTP
///                    sessions finish), so a load balancer or monitor stops sending work first
///     GET /metrics   the counters of `ServerMetrics`, Prometheus text format 0.0.4
///     other paths    404; another method on /healthz or /metrics: 405 with `Allow: GET`
///
/// HTTP/1.1 with swift-nio's own codec (NIOHTTP1), one request per connection: every answer says
/// `Connection: close`, so nothing is kept between requests. The port is meant for loopback, but it must
/// not be a way to tie the server up, so every connection is bounded (`Limits`): the bytes it may send,
/// the time it may take, and how many may be open at once. A connection over a limit is closed without
/// an answer.
public final class AdminServer: Service, Sendable {
    public struct Limits: Sendable {
        /// Bytes a client may send on one connection: a scraper's GET is about 200.
        public var maxRequestBytes = 8 * 1024
        /// From accept to the end of the answer; slower clients are cut off.
        public var timeout = TimeAmount.seconds(5)
        /// Connections open at once; more are closed at accept.
        public var maxConnections = 16
        public init() {}
    }

    let addresses: [ListenAddress]
    let metrics: ServerMetrics
    let queueMessages: @Sendable () async -> Int?
    let limits: Limits
    let group: any EventLoopGroup
    let logger: Logger
    private let channels = NIOLockedValueBox<[any Channel]>([])
    private let open = NIOLockedValueBox(0)
    private let draining: Synchronization.Atomic<Bool>

    /// `queueMessages` is asked at each scrape of /metrics (nil: unknown, the gauge is left out).
    public init(addresses: [ListenAddress], metrics: ServerMetrics,
                queueMessages: @escaping @Sendable () async -> Int? = { nil },
                limits: Limits = Limits(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger) {
        self.addresses = addresses
        self.limits = limits
        self.group = group
        self.logger = logger
        self.metrics = metrics
        self.queueMessages = queueMessages
        self.draining = Synchronization.Atomic(false)
    }

    /// Binds every address; on an error none stays bound and the error names the address.
    /// Returns the bound addresses (port 0 resolved).
    @discardableResult
    public func bind() async throws -> [SocketAddress] {
        var bound: [any Channel] = []
        for address in addresses {
            do {
                let channel = try await bootstrap(ipv6: address.host.contains(":"))
                    .bind(host: address.host, port: address.port).get()
                bound.append(channel)
                logger.info("listening: admin HTTP on \(channel.localAddress.map(MailServer.describe) ?? "\(address)")")
            } catch {
                for channel in bound { try? await channel.close() }
                throw AdminServerError(address: address, underlying: error)
            }
        }
        channels.withLockedValue { $0 += bound }
        return bound.compactMap(\.localAddress)
    }

    /// The addresses listening now.
    public var localAddresses: [SocketAddress] { channels.withLockedValue { $0.compactMap(\.localAddress) } }

    /// From now on /healthz answers 503: the server is stopping.
    public func beginShutdown() { draining.store(true, ordering: .relaxed) }

    public var isShuttingDown: Bool { draining.load(ordering: .relaxed) }

    /// Stops listening; requests in progress finish (each within `limits.timeout`).
    public func close() async {
        let all = channels.withLockedValue { list in defer { list = [] }; return list }
        for channel in all { try? await channel.close() }
    }

    /// On its own in a `ServiceGroup`: listens until graceful shutdown. `MailServer` instead calls `bind`,
    /// `beginShutdown` and `close` itself, so /healthz says 503 while the SMTP sessions drain.
    public func run() async throws {
        if channels.withLockedValue({ $0.isEmpty }) { try await bind() }
        try? await gracefulShutdown()
        beginShutdown()
        await close()
    }

    private func bootstrap(ipv6: Bool) -> ServerBootstrap {
        let limits = self.limits, open = self.open, logger = self.logger
        let endpoints = AdminEndpoints(metrics: metrics, queueMessages: queueMessages,
                                       isDraining: { [self] in self.isShuttingDown })
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        if ipv6 {
            bootstrap = bootstrap.serverChannelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        return bootstrap.childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let remote = channel.remoteAddress?.ipAddress ?? "unknown"
                let admitted = open.withLockedValue { count in
                    guard count < limits.maxConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else {
                    logger.notice("admin: closed connection from \(remote): \(limits.maxConnections) already open")
                    channel.close(promise: nil)
                    return
                }
                let deadline = channel.eventLoop.scheduleTask(in: limits.timeout) {
                    logger.notice("admin: closed connection from \(remote): not done within \(limits.timeout)")
                    channel.close(promise: nil)
                }
                channel.closeFuture.whenComplete { _ in
                    deadline.cancel()
                    open.withLockedValue { $0 -= 1 }
                }
                let sync = channel.pipeline.syncOperations
                try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                try sync.addHandler(RequestSizeLimit(maxBytes: limits.maxRequestBytes, remote: remote, logger: logger),
                                    position: .first)
                try sync.addHandler(AdminHTTPHandler(endpoints: endpoints, remote: remote, logger: logger))
            }
        }
        .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
    }
}

/// `[listen] admin` could not be bound.
public struct AdminServerError: Error, CustomStringConvertible {
    public var address: ListenAddress
    public var underlying: any Error
    public var description: String { "cannot listen on [listen] admin \"\(address)\": \(underlying)" }
}

/// What a request asks for, from its method and target (RFC 9110 §9.1, §15.5.5, §15.5.6).
enum AdminRoute: Equatable {
    case healthz, metrics, notFound, methodNotAllowed

    init(method: HTTPMethod, uri: String) {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let known: AdminRoute
        switch path {
        case "/healthz": known = .healthz
        case "/metrics": known = .metrics
        default:
            self = .notFound
            return
        }
        self = method == .GET ? known : .methodNotAllowed
    }
}

/// One answer: status, content type and body.
struct AdminResponse: Equatable {
    var status: HTTPResponseStatus
    var body: String
    var contentType = "text/plain; charset=utf-8"
    var allow: String?
}

/// The endpoints, without I/O: the handler asks, writes the answer and closes.
struct AdminEndpoints: Sendable {
    let metrics: ServerMetrics
    let queueMessages: @Sendable () async -> Int?
    let isDraining: @Sendable () -> Bool

    func respond(to route: AdminRoute) async -> AdminResponse {
        switch route {
        case .healthz:
            return isDraining() ? AdminResponse(status: .serviceUnavailable, body: "shutting down\n")
                                : AdminResponse(status: .ok, body: "ok\n")
        case .metrics:
            metrics.setQueueMessages(await queueMessages())
            return AdminResponse(status: .ok, body: metrics.render(), contentType: ServerMetrics.contentType)
        case .notFound:
            return AdminResponse(status: .notFound, body: "not found; try /healthz or /metrics\n")
        case .methodNotAllowed:
            return AdminResponse(status: .methodNotAllowed, body: "only GET\n", allow: "GET")
        }
    }
}

/// Answers the first request on a connection, then closes it.
final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let endpoints: AdminEndpoints
    let remote: String
    let logger: Logger
    private var request: HTTPRequestHead?
    private var answered = false

    init(endpoints: AdminEndpoints, remote: String, logger: Logger) {
        self.endpoints = endpoints
        self.remote = remote
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if request == nil { request = head }
        case .body:
            break   // bounded by RequestSizeLimit, otherwise ignored
        case .end:
            guard let head = request, !answered else { return }
            answered = true
            let route = AdminRoute(method: head.method, uri: head.uri)
            let endpoints = self.endpoints
            let promise = context.eventLoop.makePromise(of: AdminResponse.self)
            promise.completeWithTask { await endpoints.respond(to: route) }
            promise.futureResult.assumeIsolated().whenSuccess { response in
                self.write(response, for: head, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("admin: \(remote): \(error)")
        context.close(promise: nil)
    }

    private func write(_ response: AdminResponse, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var body = context.channel.allocator.buffer(capacity: response.body.utf8.count)
        body.writeString(response.body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        if let allow = response.allow { headers.add(name: "Allow", value: allow) }
        logger.debug("admin: \(head.method) \(head.uri) from \(remote) -> \(response.status.code) (\(body.readableBytes) bytes)")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

/// Closes a connection that sends more than `maxBytes` in all: placed before the HTTP decoder, so it also
/// bounds header lines, header count and bodies.
final class RequestSizeLimit: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var remaining: Int
    private let remote: String
    private let logger: Logger

    init(maxBytes: Int, remote: String, logger: Logger) {
        self.remaining = maxBytes
        self.remote = remote
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard remaining >= 0 else { return }
        remaining -= unwrapInboundIn(data).readableBytes
        guard remaining >= 0 else {
            logger.notice("admin: closed connection from \(remote): request larger than the limit")
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
