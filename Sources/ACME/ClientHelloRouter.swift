import Logging
import NIOCore
import NIOSSL

/// First handler on a `[listen] https` connection: reads the ClientHello (without answering it), then
/// installs the TLS handler the connection needs and replays the bytes into it.
///
/// Why this is ours and not Hummingbird's or NIOSSL's: TLS-ALPN-01 (RFC 8737 §3) requires the challenge
/// certificate to be chosen when the client offers the `acme-tls/1` protocol, during the handshake. The
/// TLS library's certificate callback sees the server name only, not the ALPN list; so the choice is made
/// here, before the handshake, from the raw ClientHello.
final class ClientHelloRouter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum Choice {
        /// The acme-tls/1 handshake: only the challenge certificate, closed after the handshake.
        case challenge(NIOSSLContext)
        /// A normal HTTPS connection: TLS, then the handlers `then` adds.
        case web(NIOSSLContext)
        case refuse(String)
    }

    let choose: (ClientHello) -> Choice
    let then: (ChannelPipeline.SynchronousOperations) throws -> Void
    let remote: String
    let logger: Logger
    private var buffered: ByteBuffer?

    init(remote: String, logger: Logger, choose: @escaping (ClientHello) -> Choice,
         then: @escaping (ChannelPipeline.SynchronousOperations) throws -> Void) {
        self.remote = remote
        self.logger = logger
        self.choose = choose
        self.then = then
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffered == nil { buffered = incoming } else { buffered!.writeBuffer(&incoming) }
        let bytes = Array(buffered!.readableBytesView)
        let hello: ClientHello
        switch ClientHello.parse(bytes) {
        case .incomplete:
            return
        case .invalid:
            logger.debug("https: \(remote): not a TLS ClientHello, closed")
            context.close(promise: nil)
            return
        case .complete(let parsed):
            hello = parsed
        }
        let sync = context.pipeline.syncOperations
        do {
            switch choose(hello) {
            case .refuse(let why):
                logger.notice("https: \(remote): \(why)")
                context.close(promise: nil)
                return
            case .challenge(let tls):
                logger.info("https: acme-tls/1 handshake for \(hello.serverName ?? "-") from \(remote)")
                try sync.addHandler(NIOSSLServerHandler(context: tls), position: .after(self))
            case .web(let tls):
                try then(sync)
                try sync.addHandler(NIOSSLServerHandler(context: tls), position: .after(self))
            }
        } catch {
            context.close(promise: nil)
            return
        }
        let replay = buffered!
        buffered = nil
        context.fireChannelRead(wrapInboundOut(replay))
        sync.removeHandler(self, promise: nil)
    }
}
