import Config
import HTTPAPI
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// The admin HTTP listener, `[listen] admin` (DESIGN.md §3; default `127.0.0.1:8025`): health and metrics
/// for monitoring.
///
///     GET /healthz   200 "ok" while the server runs; 503 "shutting down" once it stops (while the SMTP
///                    sessions finish), so a load balancer or monitor stops sending work first
///     GET /metrics   `ServerMetrics` in the Prometheus text format 0.0.4 (swift-prometheus)
///     other paths    404; another method on /healthz or /metrics: 405 with `Allow: GET`
///
/// Served by Hummingbird through `HTTPListeners`, like the API, one request per connection (the
/// connection is closed after the answer). The port is meant for loopback, but it must not be a way to tie
/// the server up, so every connection is bounded (`Limits`, enforced by `HTTPConnectionLimits`): the bytes
/// it may send, the time it may take, and how many may be open at once. A connection over a limit is
/// closed without an answer.
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

    let listeners: HTTPListeners
    let logger: Logger
    private let draining: DrainFlag
    private let running = Mutex<(task: Task<Void, Never>, group: ServiceGroup)?>(nil)
    private let bound = Mutex<[SocketAddress]>([])

    /// `queueMessages` is asked at each scrape of /metrics (nil: unknown, the gauge is left out).
    public init(addresses: [ListenAddress], metrics: ServerMetrics,
                queueMessages: @escaping @Sendable () async -> Int? = { nil },
                limits: Limits = Limits(), logger: Logger) {
        let draining = DrainFlag()
        self.draining = draining
        self.logger = logger
        let endpoints = AdminEndpoints(metrics: metrics, queueMessages: queueMessages,
                                       isDraining: { draining.flag.load(ordering: .relaxed) })
        self.listeners = HTTPListeners(
            role: "admin", addresses: addresses.map { (host: $0.host, port: $0.port) }, tls: nil,
            limits: HTTPConnectionLimits(maxRequestBytes: limits.maxRequestBytes, timeout: limits.timeout,
                                         maxConnections: limits.maxConnections),
            logger: logger, router: { AdminResponder.router(endpoints) })
    }

    /// Listens on every address; if one cannot be bound, none stays bound and the error names the role,
    /// the address and the key to change (`HTTPListenerError`). Returns the bound addresses (port 0 resolved).
    @discardableResult
    public func bind() async throws -> [SocketAddress] {
        let listeners = self.listeners, logger = self.logger
        // Detached: the listener stops when `close` says so, not at the first graceful-shutdown signal of
        // an enclosing ServiceGroup, so that /healthz can answer 503 while the SMTP sessions drain.
        // In a group of its own (no signals), stopped by `close` with a graceful shutdown: the requests in
        // flight finish, and nothing is cancelled (a cancelled Hummingbird server logs an error).
        let group = ServiceGroup(configuration: .init(services: [.init(service: listeners)], gracefulShutdownSignals: [],
                                                      logger: logger))
        let task = Task.detached { () -> Void in _ = try? await group.run() }
        running.withLock { $0 = (task, group) }
        switch await listeners.ready() {
        case .success(let addresses):
            bound.withLock { $0 = addresses }
            return addresses
        case .failure(let error):
            await close()
            throw error
        }
    }

    /// The addresses listening now.
    public var localAddresses: [SocketAddress] { bound.withLock { $0 } }

    /// From now on /healthz answers 503: the server is stopping.
    public func beginShutdown() { draining.flag.store(true, ordering: .relaxed) }

    public var isShuttingDown: Bool { draining.flag.load(ordering: .relaxed) }

    /// Stops listening and ends the open connections.
    public func close() async {
        let current = running.withLock { t in defer { t = nil }; return t }
        bound.withLock { $0 = [] }
        guard let current else { return }
        await current.group.triggerGracefulShutdown()
        await current.task.value
    }

    /// On its own in a `ServiceGroup`: listens until graceful shutdown. `MailServer` instead calls `bind`,
    /// `beginShutdown` and `close` itself, so /healthz says 503 while the SMTP sessions drain.
    public func run() async throws {
        if running.withLock({ $0 == nil }) { try await bind() }
        try? await gracefulShutdown()
        beginShutdown()
        await close()
    }
}

/// Set once the server stops; read at each /healthz.
final class DrainFlag: Sendable {
    let flag = Atomic(false)
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
    var status: HTTPResponse.Status
    var body: String
    var contentType = "text/plain; charset=utf-8"
    var allow: String?
}

/// The endpoints, without I/O.
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

/// Answers every request from `AdminRoute` and `AdminEndpoints`: the admin router has no routes of its
/// own, so this middleware sees every path and method (404 and 405 included) and never calls `next`.
struct AdminResponder: RouterMiddleware {
    typealias Context = APIRequestContext
    let endpoints: AdminEndpoints

    static func router(_ endpoints: AdminEndpoints) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.middlewares.add(AdminResponder(endpoints: endpoints))
        return router
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let route = AdminRoute(method: HTTPMethod(rawValue: request.method.rawValue), uri: request.uri.path)
        let answer = await endpoints.respond(to: route)
        var fields = HTTPFields()
        fields[.contentType] = answer.contentType
        fields[.connection] = "close"
        if let allow = answer.allow { fields[.allow] = allow }
        let body = ByteBuffer(string: answer.body)
        context.logger.debug("admin: \(request.method) \(request.uri.path) from \(context.remoteAddress) -> \(answer.status.code) (\(body.readableBytes) bytes)")
        return Response(status: answer.status, headers: fields, body: .init(byteBuffer: body))
    }
}
