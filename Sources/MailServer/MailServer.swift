import ConfigFiles
import ACME
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

/// `apus serve`: every listener of `[listen]`, the queue runner and its couriers, the reloaders and the admin
/// HTTP listener (`services`).
public final class MailServer: Service, Sendable {
    public let config: ApusConfig
    public let configDirectory: String
    let directory: DirectoryHolder
    let tls: TLSContextProvider
    let spool: FileSpool
    /// Delivery of everything queued: local Maildirs and remote servers, retries, bounces.
    let runner: QueueRunner
    /// Each recipient's route, chosen when a message is queued.
    let router: Router
    let connections: ConnectionLimiter
    let group: any EventLoopGroup
    let deliveryLoop: any EventLoop
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
    /// DATA held in memory by all SMTP connections together; past it, large messages go to disk at once.
    let dataBudget = DataMemoryBudget()
    /// Counters for `GET /metrics`.
    public let metrics: ServerMetrics
    /// `[listen] admin`: /healthz and /metrics.
    let admin: AdminServer
    /// The event store, its recorder and the webhook dispatcher.
    let events: EventWiring
    /// `[listen] api`: the HTTP send API.
    let api: HTTPListeners
    /// Called once every listener is bound, before any connection is served (`apus dev` prints its banner).
    let onListening: (@Sendable () -> Void)?
    /// Per `[listen]` key, what to change when it cannot be bound (default: the key in apus.toml).
    let bindFixes: [String: String]
    /// `[listen] http|https`: ACME challenge answers and the MTA-STS policy.
    let web: WebServer?
    /// `[acme]`: obtains and renews the certificates in certs/.
    let certificateManager: CertificateManager?
    /// `[delivery] tls_reports`: counts outbound TLS results for TLS-RPT (RFC 8460); nil when off.
    let tlsReports: TLSReportRecorder?

    /// Loads users and certificates; any error names its file.
    /// `resolver` replaces the DNS resolver built from `[dns]` (tests pass a fake).
    public init(config: ApusConfig, configDirectory: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                resolver injectedResolver: (any DNSResolving)? = nil, configPollInterval: Duration = .seconds(2),
                bindFixes: [String: String] = [:], onListening: (@Sendable () -> Void)? = nil,
                logger: Logger) throws {
        self.configPollInterval = configPollInterval
        self.bindFixes = bindFixes
        self.onListening = onListening
        self.config = config
        self.configDirectory = configDirectory
        let aliasSettings = AliasSettings(dropCharacters: config.aliases.dropCharacters,
                                          suffixSeparators: config.aliases.suffixSeparators)
        self.directory = DirectoryHolder(try MailDirectory.load(configDirectory: configDirectory, aliases: aliasSettings))
        self.tls = try TLSContextProvider(certsDirectory: "\(configDirectory)/certs", hostname: config.hostname)
        self.spool = try FileSpool(directory: "\(config.dataDir)/queue", groupCommit: true)
        let dirHolder = directory
        let dnsServers = config.dns.servers.map { DNSServerAddress(host: $0.host, port: $0.port) }
        let resolver: any DNSResolving = injectedResolver ?? DNSResolver(servers: dnsServers, logger: logger)
        self.resolver = resolver
        // The queue runner and its outbound connections share one event loop (QueueRunner.run).
        let deliveryLoop = group.next()
        self.deliveryLoop = deliveryLoop
        let mtaSTS = try MTASTSPolicyStore(dns: resolver, cacheDirectory: "\(config.dataDir)/state/mta-sts",
                                           caFile: config.delivery.caFile, group: group, logger: logger)
        let providers = config.delivery.providers
        let pacer = ProviderPacer()
        let metrics = ServerMetrics()
        let events = try EventWiring(config: config, configDirectory: configDirectory, metrics: metrics, logger: logger)
        var courier = try RemoteCourier(hostname: config.hostname, port: config.delivery.smtpPort, dns: resolver,
                                        tlsLevels: TLSLevelStore(path: "\(config.dataDir)/state/tls-levels.json"),
                                        caFile: config.delivery.caFile, mtaSTS: mtaSTS, providers: providers,
                                        pacing: pacer, outbound: Self.outboundAddresses(config.delivery),
                                        dnssec: config.dns.dnssec, group: deliveryLoop, logger: logger)
        let tlsReports = config.delivery.tlsReports ? TLSReportRecorder(store: events.store, logger: logger) : nil
        courier.tlsReports = tlsReports
        self.tlsReports = tlsReports
        var lmtp: LMTPCourier?
        if !config.delivery.lmtp.isEmpty {
            let address = try ListenAddress.parse(config.delivery.lmtp)
            lmtp = LMTPCourier(host: address.host == "localhost" ? "127.0.0.1" : address.host, port: address.port,
                               hostname: config.hostname, logger: logger)
        }
        let mda = config.delivery.mda.isEmpty ? nil : config.delivery.mda
        let relay = try Self.relayCourier(config, configDirectory: configDirectory, resolver: resolver, group: deliveryLoop,
                                          logger: logger)
        let couriers = CourierTable(
            maildir: MaildirCourier(mailRoot: "\(config.dataDir)/mail", hostname: config.hostname, logger: logger),
            lmtp: lmtp, command: CommandCourier(mda: mda, logger: logger), remote: courier, smarthost: relay,
            hasMDA: mda != nil)
        let router = Router(local: Router.localRoute(lmtp: config.delivery.lmtp, mda: config.delivery.mda),
                            relay: relay != nil, isLocalDomain: { dirHolder.current.isLocalDomain($0) })
        self.router = router
        let triggers = "\(config.dataDir)/state/retry"
        try DurableFile.makeDirectories(triggers)
        metrics.setPaceSource { pacer.currentPace(of: providers) }
        self.metrics = metrics
        self.events = events
        let recorder = events.recorder
        self.runner = QueueRunner(
            settings: .init(hostname: config.hostname,
                            schedule: RetrySchedule(giveUpAfter: config.delivery.giveUpAfter.duration),
                            holdRemote: config.delivery.holdRemote,
                            delayWarningAfter: config.delivery.delayWarningAfter.duration, triggerDirectory: triggers),
            spool: spool, couriers: couriers, router: router, observer: { delivery in
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
        self.web = Self.makeWebServer(config: config, directory: directory, tls: tls, group: group, logger: logger)
        self.certificateManager = Self.makeCertificateManager(config: config, configDirectory: configDirectory,
                                                              localDomains: directory.current.domains, logger: logger)
        let policy = ServerPolicy(directory: directory, config: config)
        let apiDelegate = ServerDelegate(config: config, directory: directory, policy: policy, router: router, spool: spool, signer: signer,
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

    /// What to change when `[listen] key` cannot be bound; `apus dev` names its flags instead.
    func bindFix(_ key: String) -> String {
        bindFixes[key] ?? "change \"\(key)\" in [listen] of \(configDirectory)/apus.toml"
    }

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

    /// Every long-running part, in start order; a graceful shutdown stops them in reverse (ServiceGroup):
    /// the listeners first (new connections refused, open sessions told 421 and finished, `/healthz` 503
    /// meanwhile), then the admin HTTP listener, the configuration watcher, the SIGHUP reloader, and the queue
    /// runner last, so a message accepted during the shutdown is still in its hands. `apus serve` runs these
    /// in its own ServiceGroup; `run()` runs them in one of its own, for callers that run the server as one
    /// service.
    public var services: [any Service] {
        // The event recorder first, so that it stops last and stores the events of everything before it.
        var list: [any Service] = [events.recorder]
        if let webhooks = events.webhooks { list.append(webhooks) }
        list.append(EventRetentionService(store: events.store, keep: config.events.keep.duration, logger: logger))
        // Before the runner, so that it stops after it and stores the counts of its last deliveries.
        if let tlsReports { list.append(tlsReportService(tlsReports)) }
        list.append(QueueRunnerService(runner: runner, wakeups: wakeups, executor: EventLoopTaskExecutor.of(deliveryLoop),
                                       logger: logger))
        list.append(ReloadSignalService(server: self))
        list.append(ConfigWatcherService(server: self, interval: configPollInterval))
        if let certificateManager { list.append(CertificateManagerService(server: self, manager: certificateManager)) }
        list.append(AdminService(admin: admin))
        if let web { list.append(WebService(web: web)) }
        list.append(api)
        list.append(ListenerService(server: self))
        return list
    }

    public func run() async throws {
        await removeLeftovers()
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await group.run()
                return true
            }
            tasks.addTask {
                try? await gracefulShutdown()   // ours, as a service of the caller's group
                await group.triggerGracefulShutdown()
                return false
            }
            while let groupEnded = try await tasks.next() {
                if groupEnded {
                    tasks.cancelAll()
                    break
                }
            }
        }
        logger.info("stopped")
    }

    /// Binds every listener (SMTP and admin HTTP), then serves until the graceful shutdown: then the
    /// listeners close, `/healthz` answers 503, open sessions get 421 and are awaited (a message being
    /// queued is finished first), and the runner's stream of new ids ends.
    func runListeners() async throws {
        if tls.context == nil {
            logger.warning("no certificate in \(configDirectory)/certs: STARTTLS and port 465 are off, and AUTH is impossible")
        }
        var channels: [any Channel] = []
        var addresses: [(ListenerKind, SocketAddress)] = []
        do {
            for (kind, list) in [(ListenerKind.mx, config.listen.mx), (.submission, config.listen.submission),
                                 (.submissions, config.listen.submissions)] {
                for address in list {
                    let channel: any Channel
                    do { channel = try await bind(kind, host: address.host, port: address.port) } catch {
                        throw ListenerBindError(listener: kind.rawValue, address: address, underlying: error,
                                                fix: bindFix(kind.rawValue))
                    }
                    channels.append(channel)
                    if let local = channel.localAddress { addresses.append((kind, local)) }
                    logger.info("listening: \(kind.rawValue) on \(channel.localAddress.map(Self.describe) ?? "\(address)")")
                }
            }
            do { try await admin.bind() } catch let error as HTTPListenerError {
                throw ListenerBindError(listener: "admin", address: ListenAddress(host: error.host, port: error.port),
                                        underlying: error.underlying, fix: bindFix("admin"))
            }
            try await web?.bind()
            onListening?()
        } catch {
            await admin.close()
            for channel in channels { try? await channel.close() }
            throw error
        }
        await bound.set(addresses)
        try? await gracefulShutdown()
        admin.beginShutdown()   // /healthz says 503 while the sessions finish
        logger.info("shutting down: closing listeners")
        for channel in channels { try? await channel.close() }
        let sessions = openChannels.withLockedValue { Array($0.values) }
        for session in sessions { session.pipeline.fireUserInboundEventTriggered(SMTPServerShutdown()) }
        for session in sessions { try? await session.closeFuture.get() }
        wake.finish()
    }

    /// Temp files of writes a crash interrupted (queue and Maildir `tmp/`), removed before anything is
    /// written again, with one log line per directory that had some. Call it before `services` run (`run()`
    /// does; `apus serve`, which runs the services in a group of its own, calls it first): nothing may be
    /// writing then.
    public func removeLeftovers() async {
        let queue = spool.directory, mail = "\(config.dataDir)/mail"
        let found = try? await NIOThreadPool.singleton.runIfActive {
            (DurableFile.removeLeftovers(in: queue), MaildirWriter.removeLeftovers(mailRoot: mail))
        }
        guard let (inQueue, inMaildirs) = found else { return }
        for (removed, place) in [(inQueue, "\(queue)/"), (inMaildirs, "the tmp/ of Maildirs under \(mail)/")] where removed.files > 0 {
            logger.notice("removed \(removed.files) temporary file(s), \(removed.bytes) bytes, left in \(place) by an interrupted write (a crash or kill)")
        }
    }

    static func describe(_ address: SocketAddress) -> String {
        let ip = address.ipAddress ?? "?"
        return ip.contains(":") ? "[\(ip)]:\(address.port ?? 0)" : "\(ip):\(address.port ?? 0)"
    }

    func bind(_ kind: ListenerKind, host: String, port: Int) async throws -> any Channel {
        var draft = SMTPServerSettings(
            session: SessionConfiguration(hostname: config.hostname, listener: kind, tlsAvailable: true,
                                          maxMessageBytes: config.limits.maxMessageBytes,
                                          maxRecipients: config.limits.maxRecipients,
                                          maxErrors: config.limits.maxErrors),
            maxCommandLineBytes: config.limits.maxCommandLineBytes,
            commandTimeout: .seconds(Int64(config.limits.commandTimeout.seconds)),
            dataTimeout: .seconds(Int64(config.limits.dataTimeout.seconds)),
            minDataRate: config.limits.minDataRate)
        let checking = kind == .mx && config.checks.enabled
        draft.session.checkSenders = checking
        draft.spill = DataSpillPolicy(directory: spool.directory, budget: dataBudget)
        let settings = draft   // a constant for the @Sendable initializer below
        let senderChecker = checking ? SenderChecker(resolver: resolver, hostname: config.hostname,
                                                     rejectFail: config.checks.rejectSPFFail, logger: logger) : nil
        let inbound = checking ? InboundAuthenticator(resolver: resolver, hostname: config.hostname,
                                                      rejectDMARCFailures: config.checks.rejectDMARCFailures,
                                                      logger: logger) : nil
        let store = events.store
        let policy = ServerPolicy(directory: directory, config: config,
                                  isSuppressed: { store.isSuppressedNow(domain: $0, address: $1) })
        let wake = self.wake
        let delegate = ServerDelegate(config: config, directory: directory, policy: policy, router: router, spool: spool,
                                      signer: signer, senderChecker: senderChecker, inboundAuthenticator: inbound,
                                      delivered: { wake.yield($0) }, metrics: metrics, events: events.recorder,
                                      unsubscribe: events.unsubscribe, logger: logger)
        let tls = self.tls, connections = self.connections, logger = self.logger, hostname = config.hostname
        let openChannels = self.openChannels, metrics = self.metrics, frozenSettings = settings
        var bootstrap = ServerBootstrap(group: group)
            // The kernel caps it at net.core.somaxconn (4096 on current kernels): under a connection flood a full
            // accept queue drops SYNs, and a legitimate client then waits a second for its retransmission.
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .serverChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
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
                        SMTPServerHandler(settings: frozenSettings, policy: policy, delegate: delegate, tlsContext: context,
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
        reply.writeWire(into: &buffer)
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
