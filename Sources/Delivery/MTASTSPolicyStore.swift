import ConfigFiles
import DNSCore
import Foundation
import Logging
import MailQueue
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Finds and caches MTA-STS policies (RFC 8461 §3, §5).
///
/// For a domain: the `_mta-sts` TXT record gives the policy id. A cached policy with that id and within its
/// `max_age` is used as is; otherwise the policy is fetched from `https://mta-sts.<domain>/.well-known/
/// mta-sts.txt` (the certificate verified for that name, no redirects, status 200, at most 64 KiB) and cached
/// in memory and in `<data_dir>/state/mta-sts/<domain>.json`. Without a TXT record, or when the fetch fails,
/// an unexpired cached policy still applies (§5.1); otherwise there is none. `mode: none` means none.
public actor MTASTSPolicyStore {
    struct Cached: Codable {
        var id: String
        var policy: MTASTSPolicy
        var fetchedAt: Date
        var expires: Date { fetchedAt.addingTimeInterval(TimeInterval(policy.maxAge)) }
    }

    let dns: any DNSResolving
    let context: NIOSSLContext
    let cacheDirectory: String
    /// 443 on the internet; tests serve the policy on another port.
    let port: Int
    let timeout: TimeAmount
    let group: any EventLoopGroup
    let logger: Logger
    let clock: @Sendable () -> Date
    var cache: [String: Cached] = [:]

    /// §3.3: the policy body is at most 64 KiB.
    static let maxPolicyBytes = 65_536

    /// - Parameter caFile: PEM file of trusted CAs for the HTTPS fetch; empty means the system store.
    public init(dns: any DNSResolving, cacheDirectory: String, caFile: String = "", port: Int = 443,
                timeout: TimeAmount = .seconds(30), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        if !caFile.isEmpty { configuration.trustRoots = .file(caFile) }
        self.context = try NIOSSLContext(configuration: configuration)
        self.dns = dns
        self.cacheDirectory = cacheDirectory
        self.port = port
        self.timeout = timeout
        self.group = group
        self.clock = clock
        self.logger = logger
    }

    /// The policy that applies to `domain` now, or nil.
    public func policy(for domain: String) async -> MTASTSPolicy? {
        if case .policy(let policy) = await lookup(domain) { return policy }
        return nil
    }

    /// The policy that applies to `domain` now, or why there is none: TLS-RPT (RFC 8460 §4.3.2) reports a
    /// policy that was announced but could not be fetched (`sts-policy-fetch-error`) or parsed
    /// (`sts-policy-invalid`).
    public func lookup(_ domain: String) async -> MTASTSLookup {
        let key = domain.lowercased()
        let now = clock()
        let cached = loadCached(key).flatMap { $0.expires > now ? $0 : nil }
        let id: String?
        switch await dns.txt("_mta-sts.\(key)") {
        case .success(let records):
            let ids = records.filter { $0.hasPrefix("v=STSv1") }.compactMap(MTASTSRecord.id(in:))
            id = ids.count == 1 ? ids[0] : nil   // §3.1: several records mean none
        case .failure:
            id = nil
        }
        guard let id else { return MTASTSLookup(usable(cached?.policy)) }
        if let cached, cached.id == id { return MTASTSLookup(usable(cached.policy)) }
        let text: String
        do { text = try await fetch(key) } catch {
            logger.warning("MTA-STS policy of \(key) could not be fetched: \(error)")
            if let cached = usable(cached?.policy) { return .policy(cached) }
            return .fetchFailed("\(error)")
        }
        do {
            let policy = try MTASTSPolicy.parse(text)
            let entry = Cached(id: id, policy: policy, fetchedAt: now)
            await store(entry, for: key)
            logger.info("MTA-STS policy of \(key): mode \(policy.mode.rawValue), mx \(policy.mx.joined(separator: " ")), id \(id)")
            return MTASTSLookup(usable(policy))
        } catch {
            logger.warning("MTA-STS policy of \(key) is invalid: \(error)")
            if let cached = usable(cached?.policy) { return .policy(cached) }
            return .invalid("\(error)")
        }
    }

    func usable(_ policy: MTASTSPolicy?) -> MTASTSPolicy? {
        guard let policy, policy.mode != .none else { return nil }
        return policy
    }

    func loadCached(_ domain: String) -> Cached? {
        if let entry = cache[domain] { return entry }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard let data = FileManager.default.contents(atPath: "\(cacheDirectory)/\(domain).json"),
              let entry = try? decoder.decode(Cached.self, from: data) else { return nil }
        cache[domain] = entry
        return entry
    }

    /// The file is written on the thread pool: this actor runs on the delivery event loop (QueueRunner.run),
    /// which an fsync must not hold.
    func store(_ entry: Cached, for domain: String) async {
        cache[domain] = entry
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        let directory = cacheDirectory
        do {
            let bytes = Array(try encoder.encode(entry))
            try await NIOThreadPool.singleton.runIfActive {
                try DurableFile.makeDirectories(directory)
                try DurableFile.write(bytes, to: "\(directory)/\(domain).json")
            }
        } catch {
            logger.error("cannot cache the MTA-STS policy of \(domain): \(error)")
        }
    }

    struct FetchError: Error, CustomStringConvertible {
        let description: String
    }

    /// The policy text of `domain`, fetched now (no cache): for `apus check`.
    public func fetchPolicyText(_ domain: String) async throws -> String {
        try await fetch(domain.lowercased())
    }

    /// GET https://mta-sts.<domain>/.well-known/mta-sts.txt, the host's addresses from our resolver.
    func fetch(_ domain: String) async throws -> String {
        let host = "mta-sts.\(domain)"
        let addresses: [IPAddress]
        switch await dns.addresses(host) {
        case .success(let list): addresses = list
        case .failure(let failure): throw FetchError(description: "\(host): \(failure)")
        }
        var lastError: any Error = FetchError(description: "\(host) has no address")
        for ip in addresses.prefix(4) {
            do { return try await fetch(host: host, ip: ip.description) } catch { lastError = error }
        }
        throw lastError
    }

    func fetch(host: String, ip: String) async throws -> String {
        let address = try SocketAddress(ipAddress: ip, port: port)
        let context = self.context, timeout = self.timeout
        let (channel, promise) = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .connect(to: address) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let promise = channel.eventLoop.makePromise(of: String.self)
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: host)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(PolicyResponseHandler(host: host, promise: promise))
                    return (channel, promise)
                }
            }
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(FetchError(description: "timeout"))
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            let text = try await promise.futureResult.get()
            try? await channel.close()
            return text
        } catch {
            try? await channel.close()
            throw error
        }
    }
}

/// Sends the GET and collects a 200 response body (RFC 8461 §3.3).
final class PolicyResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let host: String
    let promise: EventLoopPromise<String>
    var status: HTTPResponseStatus?
    var body: [UInt8] = []

    init(host: String, promise: EventLoopPromise<String>) {
        self.host = host
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/.well-known/mta-sts.txt")
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "User-Agent", value: "Apus")
        head.headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
            if body.count > MTASTSPolicyStore.maxPolicyBytes {
                promise.fail(MTASTSPolicyStore.FetchError(description: "policy larger than 64 KiB"))
                context.close(promise: nil)
            }
        case .end:
            if status == .ok {
                promise.succeed(String(decoding: body, as: UTF8.self))
            } else {
                // §3.3: no redirects; anything but 200 means no policy.
                promise.fail(MTASTSPolicyStore.FetchError(description: "HTTP status \(status.map { "\($0.code)" } ?? "?")"))
            }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(MTASTSPolicyStore.FetchError(description: "connection closed before the response ended"))
        context.fireChannelInactive()
    }

    /// A connect that fails (refused, timed out) never makes the channel active or inactive, but the pipeline
    /// is torn down: the promise must not be left pending (NIO traps on a leaked promise in debug builds).
    /// Completing an already completed promise is ignored.
    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(MTASTSPolicyStore.FetchError(description: "no connection"))
    }
}
