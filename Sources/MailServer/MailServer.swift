import Certificates
import Config
import Delivery
import DNSCore
import Directory
import DNSResolver
import Foundation
import HTTPAPI
import Logging
import MailQueue
import MailStore
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import UnixSignals
import SMTPProtocol
import SMTPTransport

/// `apus serve`: every listener of `[listen]`, the queue and local delivery, as one Service.
public final class MailServer: Service, Sendable {
    public let config: ApusConfig
    public let configDirectory: String
    let directory: DirectoryHolder
    let tls: TLSContextProvider
    let spool: FileSpool
    let delivery: LocalDeliveryAgent
    /// Delivery of everything queued: local Maildirs and remote servers, retries, bounces.
    let runner: QueueRunner
    let connections: ConnectionLimiter
    let group: any EventLoopGroup
    let logger: Logger
    let signer: OutboundSigner
    let resolver: any DNSResolving
    /// How often the watched configuration files are checked for changes.
    let configPollInterval: Duration
    let wakeups: AsyncStream<String>
    let wake: AsyncStream<String>.Continuation
    /// Addresses actually bound (port 0 resolved), filled when `run` starts listening.
    private let bound = BoundAddresses()
    /// Every open SMTP session, to say 421 to at shutdown.
    let openChannels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    /// Counters for `GET /metrics`.
    public let metrics: ServerMetrics
    /// `[listen] admin`: /healthz and /metrics.
    let admin: AdminServer
    /// The event store, its recorder and the webhook dispatcher.
    let events: EventWiring
    /// `[listen] api`: the HTTP send API.
    let api: HTTPListeners

    /// Loads users and certificates; any error names its file.
    /// `resolver` replaces the DNS resolver built from `[dns]` (tests pass a fake).
    public init(config: ApusConfig, configDirectory: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                resolver injectedResolver: (any DNSResolving)? = nil, configPollInterval: Duration = .seconds(2),
                logger: Logger) throws {
        self.configPollInterval = configPollInterval
        self.config = config
        self.configDirectory = configDirectory
        let aliasSettings = AliasSettings(dropCharacters: config.aliases.dropCharacters,
                                          suffixSeparators: config.aliases.suffixSeparators)
        self.directory = DirectoryHolder(try MailDirectory.load(configDirectory: configDirectory, aliases: aliasSettings))
        self.tls = try TLSContextProvider(certsDirectory: "\(configDirectory)/certs", hostname: config.hostname)
        self.spool = try FileSpool(directory: "\(config.dataDir)/queue")
        let dirHolder = directory
        self.delivery = LocalDeliveryAgent(spool: spool, mailRoot: "\(config.dataDir)/mail", hostname: config.hostname,
                                           isLocalDomain: { dirHolder.current.isLocalDomain($0) }, logger: logger)
        let dnsServers = config.dns.servers.map { DNSServerAddress(host: $0.host, port: $0.port) }
        let resolver: any DNSResolving = injectedResolver ?? DNSResolver(servers: dnsServers, logger: logger)
        self.resolver = resolver
        let mtaSTS = try MTASTSPolicyStore(dns: resolver, cacheDirectory: "\(config.dataDir)/state/mta-sts",
                                           caFile: config.delivery.caFile, group: group, logger: logger)
        let courier = try RemoteCourier(hostname: config.hostname, port: config.delivery.smtpPort, dns: resolver,
                                        tlsLevels: TLSLevelStore(path: "\(config.dataDir)/state/tls-levels.json"),
                                        caFile: config.delivery.caFile, mtaSTS: mtaSTS, group: group, logger: logger)
        var lmtp: LMTPCourier?
        if !config.delivery.lmtp.isEmpty {
            let address = try ListenAddress.parse(config.delivery.lmtp)
            lmtp = LMTPCourier(host: address.host == "localhost" ? "127.0.0.1" : address.host, port: address.port,
                               hostname: config.hostname, logger: logger)
        }
        let triggers = "\(config.dataDir)/state/retry"
        try DurableFile.makeDirectories(triggers)
        let metrics = ServerMetrics()
        self.metrics = metrics
        let events = try EventWiring(config: config, configDirectory: configDirectory, metrics: metrics, logger: logger)
        self.events = events
        let recorder = events.recorder
        self.runner = QueueRunner(
            settings: .init(hostname: config.hostname,
                            schedule: RetrySchedule(giveUpAfter: config.delivery.giveUpAfter.duration),
                            holdRemote: config.delivery.holdRemote, lmtp: lmtp,
                            mda: config.delivery.mda.isEmpty ? nil : config.delivery.mda, triggerDirectory: triggers),
            spool: spool, local: delivery, remote: courier,
            isLocalDomain: { dirHolder.current.isLocalDomain($0) }, observer: { delivery in
                metrics.delivery(delivery)
                if let event = EventWiring.event(delivery, now: Date()) { recorder.record(event) }
            }, logger: logger)
        let queueDirectory = spool.directory
        self.admin = AdminServer(addresses: config.listen.admin, metrics: metrics, queueMessages: {
            try? await NIOThreadPool.singleton.runIfActive { ServerMetrics.countQueuedMessages(in: queueDirectory) } ?? nil
        }, logger: logger)
        self.connections = ConnectionLimiter(maxTotal: config.limits.maxConnections,
                                             maxPerAddress: config.limits.maxConnectionsPerIP)
        self.group = group
        self.logger = logger
        self.signer = OutboundSigner(configDirectory: configDirectory, logger: logger)
        let (wakeups, wake) = AsyncStream.makeStream(of: String.self)
        (self.wakeups, self.wake) = (wakeups, wake)
        let policy = ServerPolicy(directory: directory, config: config)
        let apiDelegate = ServerDelegate(config: config, directory: directory, policy: policy, spool: spool, signer: signer,
                                         delivered: { wake.yield($0) }, metrics: metrics, events: recorder, logger: logger)
        var sendAPI = API(hostname: config.hostname, store: events.store, recorder: recorder,
                      credential: APICredentials.lookup(directory),
                      submitter: APISubmitter(delegate: apiDelegate, policy: policy, tls: config.api.tls),
                      limits: .init(maxMessageBytes: config.limits.maxMessageBytes, maxRecipients: config.limits.maxRecipients),
                      unsubscribe: events.unsubscribe)
        sendAPI.observeRequest = { metrics.apiRequest($0) }
        let routes = sendAPI
        let tlsProvider = self.tls
        let contexts: (@Sendable () -> NIOSSLContext?)? = config.api.tls ? { @Sendable in tlsProvider.context } : nil
        let apiAddresses: [(host: String, port: Int)] = config.listen.api.map { (host: $0.host, port: $0.port) }
        self.api = HTTPListeners(role: "api", addresses: apiAddresses, tls: contexts, logger: logger,
                                 router: { routes.router() })
    }

    /// The API listener's addresses (`[listen] api`). Waits until bound.
    public func apiAddresses() async -> [SocketAddress] { await api.boundAddresses() }

    /// The event store (tests and `apus` commands in-process).
    public var eventStore: any MailStore { events.store }

    /// Waits until every event recorded so far is in the store.
    public func flushEvents() async { await events.recorder.flush() }

    /// The listening addresses, e.g. for tests that bind port 0. Waits until bound.
    public func boundAddresses() async -> [(ListenerKind, SocketAddress)] { await bound.wait() }

    /// The admin HTTP listener's addresses (`[listen] admin`). Waits until bound.
    public func adminAddresses() async -> [SocketAddress] {
        _ = await bound.wait()
        return admin.localAddresses
    }

    /// Re-reads users and certificates (SIGHUP). On error the old state stays and the error is logged.
    public func reload() {
        do {
            let aliasSettings = AliasSettings(dropCharacters: config.aliases.dropCharacters,
                                              suffixSeparators: config.aliases.suffixSeparators)
            directory.replace(try MailDirectory.load(configDirectory: configDirectory, aliases: aliasSettings))
            try tls.reload()
            signer.reload()
            logger.info("reloaded users, aliases, DKIM keys and certificates from \(configDirectory)")
        } catch {
            logger.error("reload failed, keeping the previous state: \(error)")
        }
    }

    public func run() async throws {
        if tls.context == nil {
            logger.warning("no certificate in \(configDirectory)/certs: STARTTLS and port 465 are off, and AUTH is impossible")
        }
        var channels: [any Channel] = []
        var addresses: [(ListenerKind, SocketAddress)] = []
        do {
            for (kind, list) in [(ListenerKind.mx, config.listen.mx), (.submission, config.listen.submission),
                                 (.submissions, config.listen.submissions)] {
                for address in list {
                    let channel = try await bind(kind, host: address.host, port: address.port)
                    channels.append(channel)
                    if let local = channel.localAddress { addresses.append((kind, local)) }
                    logger.info("listening: \(kind.rawValue) on \(channel.localAddress.map(Self.describe) ?? "\(address)")")
                }
            }
            try await admin.bind()
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        await bound.set(addresses)

        let startupFailure: HTTPListenerError? = await withTaskGroup(of: Void.self) { tasks in
            let runner = self.runner
            let wakeups = self.wakeups
            let recorder = events.recorder, webhooks = events.webhooks, api = self.api
            tasks.addTask { try? await recorder.run() }
            if let webhooks { tasks.addTask { try? await webhooks.run() } }
            tasks.addTask { try? await api.run() }
            if case .failure(let error) = await api.ready() {
                for channel in channels { try? await channel.close() }
                await admin.close()
                tasks.cancelAll()
                return error
            }
            tasks.addTask { await runner.run(wakeups: wakeups) }
            tasks.addTask {
                let signals = await UnixSignalsSequence(trapping: .sighup)
                for await _ in signals.cancelOnGracefulShutdown() { self.reload() }
            }
            tasks.addTask {
                // Renewed certificates and edited users, aliases or DKIM keys apply without a restart.
                let watcher = ConfigWatcher(configDirectory: self.configDirectory)
                var last = watcher.fingerprint()
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.configPollInterval)
                    if Task.isCancelled { break }
                    let now = watcher.fingerprint()
                    if now != last {
                        self.logger.info("configuration files changed: reloading")
                        self.reload()
                        last = now
                    }
                }
            }
            try? await gracefulShutdown()
            admin.beginShutdown()   // /healthz says 503 while the sessions finish
            logger.info("shutting down: closing listeners")
            for channel in channels { try? await channel.close() }
            // Open sessions get 421 and are closed; a message being written to the queue finishes first.
            let sessions = openChannels.withLockedValue { Array($0.values) }
            for session in sessions { session.pipeline.fireUserInboundEventTriggered(SMTPServerShutdown()) }
            for session in sessions { try? await session.closeFuture.get() }
            await admin.close()
            await events.recorder.flush()
            wake.finish()
            tasks.cancelAll()
            return nil
        }
        if let startupFailure { throw startupFailure }
        logger.info("stopped")
    }

    static func describe(_ address: SocketAddress) -> String {
        let ip = address.ipAddress ?? "?"
        return ip.contains(":") ? "[\(ip)]:\(address.port ?? 0)" : "\(ip):\(address.port ?? 0)"
    }

    func bind(_ kind: ListenerKind, host: String, port: Int) async throws -> any Channel {
        var settings = SMTPServerSettings(
            session: SessionConfiguration(hostname: config.hostname, listener: kind, tlsAvailable: true,
                                          maxMessageBytes: config.limits.maxMessageBytes,
                                          maxRecipients: config.limits.maxRecipients,
                                          maxErrors: config.limits.maxErrors),
            maxCommandLineBytes: config.limits.maxCommandLineBytes,
            commandTimeout: .seconds(Int64(config.limits.commandTimeout.seconds)),
            dataTimeout: .seconds(Int64(config.limits.dataTimeout.seconds)))
        let checking = kind == .mx && config.checks.enabled
        settings.session.checkSenders = checking
        let senderChecker = checking ? SenderChecker(resolver: resolver, hostname: config.hostname,
                                                     rejectFail: config.checks.rejectSPFFail, logger: logger) : nil
        let inbound = checking ? InboundAuthenticator(resolver: resolver, hostname: config.hostname,
                                                      rejectDMARCFailures: config.checks.rejectDMARCFailures,
                                                      logger: logger) : nil
        let policy = ServerPolicy(directory: directory, config: config)
        let wake = self.wake
        let delegate = ServerDelegate(config: config, directory: directory, policy: policy, spool: spool,
                                      signer: signer, senderChecker: senderChecker, inboundAuthenticator: inbound,
                                      delivered: { wake.yield($0) }, metrics: metrics, events: events.recorder,
                                      logger: logger)
        let tls = self.tls, connections = self.connections, logger = self.logger, hostname = config.hostname
        let openChannels = self.openChannels, metrics = self.metrics
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 512)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        if host.contains(":") {
            bootstrap = bootstrap.serverChannelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        return try await bootstrap
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let remote = channel.remoteAddress?.ipAddress ?? "unknown"
                    let local = channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
                    metrics.connectionOpened(kind)
                    channel.closeFuture.whenComplete { _ in metrics.connectionClosed(kind) }
                    guard connections.acquire(remote) else {
                        logger.notice("refused connection from \(remote): too many connections")
                        metrics.connectionRefused(kind)
                        try channel.pipeline.syncOperations.addHandler(SMTPReplyCounter(metrics: metrics, listener: kind))
                        try channel.pipeline.syncOperations.addHandler(RefuseHandler(reply: .c421TooManyConnections(hostname)))
                        return
                    }
                    let key = ObjectIdentifier(channel)
                    openChannels.withLockedValue { $0[key] = channel }
                    channel.closeFuture.whenComplete { _ in
                        connections.release(remote)
                        openChannels.withLockedValue { $0[key] = nil }
                    }
                    let context = tls.context
                    if kind == .submissions {
                        guard let context else {
                            logger.error("connection on port 465 from \(remote) closed: no certificate configured")
                            channel.close(promise: nil)
                            return
                        }
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    }
                    let info = ConnectionInfo(id: ConnectionID.next(), listener: kind, remoteAddress: remote, localAddress: local)
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyCounter(metrics: metrics, listener: kind))
                    try channel.pipeline.syncOperations.addHandler(
                        SMTPServerHandler(settings: settings, policy: policy, delegate: delegate, tlsContext: context,
                                          info: info, logger: logger))
                }
            }
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port)
            .get()
    }
}

/// Writes one reply and closes: for connections over the limits.
final class RefuseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let reply: SMTPReply
    init(reply: SMTPReply) { self.reply = reply }
    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 80)
        buffer.writeString(reply.wireText)
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Short ids for log lines of one connection.
enum ConnectionID {
    private static let counter = NIOLockedCounter()
    static func next() -> String { String(counter.increment(), radix: 36) }
}

import NIOConcurrencyHelpers
final class NIOLockedCounter: Sendable {
    private let value = NIOLockedValueBox<UInt64>(UInt64.random(in: 0..<1_000_000))
    func increment() -> UInt64 { value.withLockedValue { $0 += 1; return $0 } }
}

actor BoundAddresses {
    var addresses: [(ListenerKind, SocketAddress)]?
    var waiters: [CheckedContinuation<[(ListenerKind, SocketAddress)], Never>] = []
    func set(_ a: [(ListenerKind, SocketAddress)]) {
        addresses = a
        for w in waiters { w.resume(returning: a) }
        waiters = []
    }
    func wait() async -> [(ListenerKind, SocketAddress)] {
        if let addresses { return addresses }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
