import Logging
import NIOCore
import NIOHTTP1

/// Answers one HTTP/1.1 request with `respond`, then closes (every answer says `Connection: close`).
final class WebHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let respond: @Sendable (HTTPMethod, String?, String) -> WebRoutes.Response
    let label: String
    let remote: String
    let logger: Logger
    private var head: HTTPRequestHead?
    private var answered = false

    init(label: String, remote: String, logger: Logger,
         respond: @escaping @Sendable (HTTPMethod, String?, String) -> WebRoutes.Response) {
        self.label = label
        self.remote = remote
        self.logger = logger
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            if head == nil { head = h }
        case .body:
            break
        case .end:
            guard let head, !answered else { return }
            answered = true
            let response = respond(head.method, head.headers.first(name: "Host"), head.uri)
            logger.info("\(label): \(head.method) \(head.headers.first(name: "Host") ?? "-")\(head.uri) from \(remote) -> \(response.status.code)")
            var body = context.channel.allocator.buffer(capacity: response.body.utf8.count)
            body.writeString(response.body)
            var headers = HTTPHeaders(response.headers)
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            headers.add(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))),
                          promise: nil)
            if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("\(label): \(remote): \(error)")
        context.close(promise: nil)
    }
}
