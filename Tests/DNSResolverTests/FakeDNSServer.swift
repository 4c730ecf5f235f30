import DNSCore
import NIOCore
import NIOPosix
import Synchronization

/// An in-process UDP DNS server on 127.0.0.1:0 for fault injection. `behavior` sees each decoded query
/// (and how many came before) and says what to send back: replies from the server's own socket, or from
/// a second socket on another port (a spoofer), optionally delayed; or nothing.
final class FakeDNSServer: Sendable {
    enum Reply: Sendable {
        case reply(DNSMessage, delay: TimeAmount = .zero)
        case spoofed(DNSMessage, delay: TimeAmount = .zero)
        case raw([UInt8])
    }
    typealias Behavior = @Sendable (DNSMessage, Int) -> [Reply]

    let channel: any Channel
    let spoofer: any Channel
    let log: QueryLog

    /// `host:port` of the server socket (`[::1]:port` for IPv6).
    var address: String {
        let local = channel.localAddress!
        return local.protocol == .inet6 ? "[::1]:\(local.port!)" : "127.0.0.1:\(local.port!)"
    }
    var queryCount: Int { log.queries.withLock { $0.count } }
    var sourcePorts: [Int] { log.ports.withLock { $0 } }

    private init(channel: any Channel, spoofer: any Channel, log: QueryLog) {
        self.channel = channel
        self.spoofer = spoofer
        self.log = log
    }

    final class QueryLog: Sendable {
        let queries = Mutex<[DNSMessage]>([])
        /// The source port of each query, in arrival order.
        let ports = Mutex<[Int]>([])
        func record(_ query: DNSMessage) -> Int {
            queries.withLock { list in
                list.append(query)
                return list.count - 1
            }
        }
    }

    static func start(host: String = "127.0.0.1", _ behavior: @escaping Behavior) async throws -> FakeDNSServer {
        let group = MultiThreadedEventLoopGroup.singleton
        let spoofer = try await DatagramBootstrap(group: group).bind(host: host, port: 0).get()
        let log = QueryLog()
        let channel = try await DatagramBootstrap(group: group).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(Handler(spoofer: spoofer, sourcePort: { port in
                    log.ports.withLock { $0.append(port) }
                }) { query in
                    behavior(query, log.record(query))
                })
            }
        }.bind(host: host, port: 0).get()
        return FakeDNSServer(channel: channel, spoofer: spoofer, log: log)
    }

    /// Closes both sockets (without waiting, so it can run in a `defer`).
    func close() {
        channel.close(promise: nil)
        spoofer.close(promise: nil)
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let spoofer: any Channel
        let respond: @Sendable (DNSMessage) -> [Reply]
        let sourcePort: @Sendable (Int) -> Void

        init(spoofer: any Channel, sourcePort: @escaping @Sendable (Int) -> Void = { _ in },
             respond: @escaping @Sendable (DNSMessage) -> [Reply]) {
            self.spoofer = spoofer
            self.sourcePort = sourcePort
            self.respond = respond
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard let query = try? DNSMessage(decoding: envelope.data) else { return }
            sourcePort(envelope.remoteAddress.port ?? 0)
            let own = context.channel
            for reply in respond(query) {
                let (bytes, delay, via): (ByteBuffer, TimeAmount, any Channel)
                switch reply {
                case .reply(let m, let d): (bytes, delay, via) = (m.encoded(), d, own)
                case .spoofed(let m, let d): (bytes, delay, via) = (m.encoded(), d, spoofer)
                case .raw(let b): (bytes, delay, via) = (ByteBuffer(bytes: b), .zero, own)
                }
                let out = AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: bytes)
                if delay == .zero {
                    via.writeAndFlush(out, promise: nil)
                } else {
                    context.eventLoop.scheduleTask(in: delay) { via.writeAndFlush(out, promise: nil) }
                }
            }
        }
    }
}

extension DNSMessage {
    /// A reply to this query with `rcode` and `answers`.
    func reply(rcode: UInt8 = 0, answers: [DNSResourceRecord] = [], authorities: [DNSResourceRecord] = [],
               id: UInt16? = nil, ad: Bool = false) -> DNSMessage {
        var header = DNSHeader(id: id ?? self.header.id)
        header.isResponse = true
        header.recursionDesired = true
        header.recursionAvailable = true
        header.responseCode = rcode
        header.authenticatedData = ad
        return DNSMessage(header: header, questions: questions, answers: answers, authorities: authorities)
    }

    var questionName: DNSName { questions[0].name }
}
