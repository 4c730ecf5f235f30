import Certificates
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// `[listen] http` and `[listen] https` (DESIGN.md §3): the ACME challenge answers and the MTA-STS policy.
/// Each connection carries one request and is closed; it has 10 s and 8 KiB to send it.
public final class WebServer: Sendable {
    public struct Address: Sendable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) { self.host = host; self.port = port }
    }

    let http: [Address]
    let https: [Address]
    let routes: WebRoutes
    let tls: TLSContextProvider?
    let group: any EventLoopGroup
    let logger: Logger
    private let channels = NIOLockedValueBox<[any Channel]>([])
    static let timeout = TimeAmount.seconds(10)
    static let maxRequestBytes = 8 * 1024

    public init(http: [Address], https: [Address], routes: WebRoutes, tls: TLSContextProvider?,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.http = http
        self.https = https
        self.routes = routes
        self.tls = tls
        self.group = group
        self.logger = logger
    }

    /// Binds every address; on an error none stays bound and the error names the key and address.
    @discardableResult
    public func bind() async throws -> [SocketAddress] {
        var bound: [any Channel] = []
        for (key, list) in [("http", http), ("https", https)] {
            for address in list {
                do {
                    let channel = try await bootstrap(secure: key == "https", ipv6: address.host.contains(":"))
                        .bind(host: address.host, port: address.port).get()
                    bound.append(channel)
                    logger.info("listening: \(key) on \(channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?")")
                } catch {
                    for channel in bound { try? await channel.close() }
                    throw ACMEError("cannot listen on [listen] \(key) \"\(address.host):\(address.port)\": \(error)")
                }
            }
        }
        channels.withLockedValue { $0 += bound }
        return bound.compactMap(\.localAddress)
    }

    public var localAddresses: [SocketAddress] { channels.withLockedValue { $0.compactMap(\.localAddress) } }

    public func close() async {
        let all = channels.withLockedValue { list in defer { list = [] }; return list }
        for channel in all { try? await channel.close() }
    }

    private func bootstrap(secure: Bool, ipv6: Bool) -> ServerBootstrap {
        let routes = self.routes, tls = self.tls, logger = self.logger
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 128)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        if ipv6 {
            bootstrap = bootstrap.serverChannelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        return bootstrap.childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let remote = channel.remoteAddress?.ipAddress ?? "unknown"
                let deadline = channel.eventLoop.scheduleTask(in: Self.timeout) { channel.close(promise: nil) }
                channel.closeFuture.whenComplete { _ in deadline.cancel() }
                let sync = channel.pipeline.syncOperations
                let label = secure ? "https" : "http"
                let addHTTP: (ChannelPipeline.SynchronousOperations) throws -> Void = { sync in
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try sync.addHandler(WebHTTPHandler(label: label, remote: remote, logger: logger) { method, host, uri in
                        secure ? routes.https(method: method, host: host, uri: uri) : routes.http(method: method, host: host, uri: uri)
                    })
                }
                try sync.addHandler(ByteLimit(maxBytes: Self.maxRequestBytes))
                guard secure else {
                    try addHTTP(sync)
                    return
                }
                try sync.addHandler(ClientHelloRouter(remote: remote, logger: logger, choose: { hello in
                    Self.choose(hello, challenges: routes.challenges, tls: tls)
                }, then: addHTTP))
            }
        }
        .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
    }

    static func choose(_ hello: ClientHello, challenges: ChallengeStore, tls: TLSContextProvider?) -> ClientHelloRouter.Choice {
        if hello.alpn.contains("acme-tls/1") {
            // RFC 8737 §3: only acme-tls/1 is offered by the validation server; it must get the challenge
            // certificate for the SNI name, or nothing.
            guard let name = hello.serverName, let answer = challenges.tlsAnswer(serverName: name) else {
                return .refuse("acme-tls/1 handshake for \(hello.serverName ?? "no name") but no challenge is pending")
            }
            var config = TLSConfiguration.makeServerConfiguration(
                certificateChain: answer.chain.map { .certificate($0) }, privateKey: .privateKey(answer.key))
            config.applicationProtocols = ["acme-tls/1"]
            config.minimumTLSVersion = .tlsv12
            guard let context = try? NIOSSLContext(configuration: config) else {
                return .refuse("cannot build the acme-tls/1 context for \(name)")
            }
            return .challenge(context)
        }
        guard let context = tls?.context else { return .refuse("no certificate in certs/ for HTTPS") }
        return .web(context)
    }
}

/// Closes a connection once it has sent more than `maxBytes` (a request here is a few hundred bytes).
final class ByteLimit: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private var remaining: Int
    init(maxBytes: Int) { self.remaining = maxBytes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        remaining -= unwrapInboundIn(data).readableBytes
        guard remaining >= 0 else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
