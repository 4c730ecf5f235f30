import DNSCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// UDP exchanges with a DNS server on the loopback interface (the local caching or validating resolver that
/// docs/dns.md recommends) over one long-lived socket per event loop: a query costs a send and a receive,
/// not a socket, a bind and a close.
///
/// Why only loopback: a fresh socket per query gives every query a random source port, which is what makes
/// off-path spoofing of a remote resolver's answers impractical (RFC 5452 §9.2). Nobody off the machine can
/// inject datagrams into 127.0.0.0/8 or ::1, so for a local resolver the id and question checks are enough,
/// and the shared socket gives nothing away. Queries to any other server keep a socket of their own.
///
/// Replies are matched by id, server address and question (RFC 5452 §4.1); ids are unique among the
/// queries in flight on a socket (a clash is resolved by drawing a new id for the query).
final class LoopbackUDPSockets: Sendable {
    private struct Socket: Sendable {
        let channel: any Channel
        let handler: SharedDNSReplyHandler
    }

    private let channels = NIOLockedValueBox<[Key: EventLoopFuture<Socket>]>([:])

    static func isLoopback(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4(let a): return a.address.sin_addr.s_addr.bigEndian >> 24 == 127
        case .v6: return address.ipAddress == "::1"
        default: return false
        }
    }

    func exchange(_ query: DNSMessage, to server: SocketAddress, timeout: TimeAmount, on eventLoop: any EventLoop) async
        -> DNSExchangeResult {
        let socket: Socket
        do { socket = try await self.socket(on: eventLoop, family: server.protocol).get() } catch {
            return .malformed("cannot open UDP socket: \(error)")
        }
        let channel = socket.channel
        let promise = channel.eventLoop.makePromise(of: DNSExchangeResult.self)
        if channel.eventLoop.inEventLoop {
            socket.handler.send(query, to: server, timeout: timeout, promise: promise, channel: channel)
        } else {
            channel.eventLoop.execute {
                socket.handler.send(query, to: server, timeout: timeout, promise: promise, channel: channel)
            }
        }
        return (try? await promise.futureResult.get()) ?? .timeout
    }

    private struct Key: Hashable {
        let loop: ObjectIdentifier
        let inet6: Bool
    }

    /// The event loop's socket for this address family, bound at first use; a closed one is replaced.
    private func socket(on eventLoop: any EventLoop, family: NIOBSDSocket.ProtocolFamily) -> EventLoopFuture<Socket> {
        let key = Key(loop: ObjectIdentifier(eventLoop), inet6: family == .inet6)
        return channels.withLockedValue { table in
            if let existing = table[key] { return existing }
            let handler = SharedDNSReplyHandler()
            let bound = DatagramBootstrap(group: eventLoop)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 4096))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
                }
                .bind(host: key.inet6 ? "::1" : "127.0.0.1", port: 0)
                .map { Socket(channel: $0, handler: handler) }
            table[key] = bound
            let box = channels
            bound.whenComplete { result in
                let forget: @Sendable () -> Void = { box.withLockedValue { t in if t[key] === bound { t[key] = nil } } }
                switch result {
                case .success(let socket): socket.channel.closeFuture.whenComplete { _ in forget() }
                case .failure: forget()
                }
            }
            return bound
        }
    }

    deinit {
        for future in channels.withLockedValue({ Array($0.values) }) {
            future.whenSuccess { $0.channel.close(promise: nil) }
        }
    }
}

/// The queries in flight on one shared socket, by id. Runs on the socket's event loop.
final class SharedDNSReplyHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    struct Pending {
        let query: DNSMessage
        let server: SocketAddress
        let promise: EventLoopPromise<DNSExchangeResult>
        var timer: Scheduled<Void>?
        var undecodable: String?
    }

    private var pending: [UInt16: Pending] = [:]

    /// Sends `query` (with a new id if its own is in flight already) and completes `promise` with the reply,
    /// or at the timeout. Called on the channel's event loop.
    func send(_ query: DNSMessage, to server: SocketAddress, timeout: TimeAmount,
              promise: EventLoopPromise<DNSExchangeResult>, channel: any Channel) {
        var query = query
        while pending[query.header.id] != nil { query.header.id = UInt16.random(in: 0...UInt16.max) }
        let id = query.header.id
        var entry = Pending(query: query, server: server, promise: promise)
        entry.timer = channel.eventLoop.scheduleTask(in: timeout) { [self] in
            guard let expired = pending.removeValue(forKey: id) else { return }
            expired.promise.succeed(expired.undecodable.map(DNSExchangeResult.malformed) ?? .timeout)
        }
        pending[id] = entry
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: query.encoded())).whenFailure { [self] error in
            guard let failed = pending.removeValue(forKey: id) else { return }
            failed.timer?.cancel()
            failed.promise.succeed(.malformed("UDP send to \(server) failed: \(error)"))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let id = DNSTransport.id(of: envelope.data), let entry = pending[id],
              envelope.remoteAddress == entry.server else { return }   // stray or spoofed: ignore
        do {
            let reply = try DNSMessage(decoding: envelope.data)
            guard DNSTransport.matches(reply, entry.query) else { return }
            pending[id] = nil
            entry.timer?.cancel()
            entry.promise.succeed(.reply(reply))
        } catch {
            pending[id]?.undecodable = "\(error)"
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for (_, entry) in pending {
            entry.timer?.cancel()
            entry.promise.succeed(entry.undecodable.map(DNSExchangeResult.malformed) ?? .timeout)
        }
        pending = [:]
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable surfaces here on Linux; the queries wait for their timers like lost datagrams.
    }
}
