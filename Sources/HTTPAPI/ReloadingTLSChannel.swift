import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// TLS in front of any Hummingbird child channel, with the context asked for at each connection: renewed
/// certificates (the `certs/` watcher swaps the context) apply to the next connection without a restart,
/// and SNI picks among them as on the SMTP listeners. HummingbirdTLS's `TLSChannel` builds one context at
/// start, which would freeze the certificate.
struct ReloadingTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let context: @Sendable () -> NIOSSLContext?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            guard let context = context() else {
                throw TLSUnavailable()
            }
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

struct TLSUnavailable: Error, CustomStringConvertible {
    var description: String { "no certificate in certs/ for the API listener" }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 behind `ReloadingTLSChannel`.
    static func reloadingTLS(_ context: @escaping @Sendable () -> NIOSSLContext?) -> HTTPServerBuilder {
        .init { responder in
            ReloadingTLSChannel(base: HTTP1Channel(responder: responder), context: context)
        }
    }
}
