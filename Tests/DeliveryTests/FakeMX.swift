import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A fault-injecting receiving MX on a loopback address, in process. Replies are chosen per recipient by
/// local part (`reject…` → 550 5.1.1, `later…` → 451 4.2.1, anything else → 250) unless `rcpt` says
/// otherwise; `greeting` and `data` inject failures at those steps. It offers STARTTLS only when
/// `tls` is set (then "(tls)" is recorded in `commands` when the handshake starts).
final class FakeMX: Sendable {
    enum DataBehavior: Sendable {
        case accept
        case reply(String)
        /// Close the connection after the first bytes of the message.
        case dropMidData
        /// Read the message but never answer.
        case stall
    }

    struct Behavior: Sendable {
        var greeting = "220 fake.mx.test ESMTP"
        var pipelining = true
        var size: Int? = nil
        var rcpt: @Sendable (String) -> String = FakeMX.defaultRcpt
        var data: DataBehavior = .accept
        /// The server side of STARTTLS (certificate chain and key); nil: STARTTLS is not offered.
        var tls: NIOSSLContext? = nil
    }

    struct Received: Sendable, Hashable {
        var mailFrom: String
        var recipients: [String]
        var data: String
    }

    static let defaultRcpt: @Sendable (String) -> String = { address in
        let local = address.split(separator: "@").first.map(String.init) ?? ""
        if local.hasPrefix("reject") { return "550 5.1.1 <\(address)>: no such user here" }
        if local.hasPrefix("later") { return "451 4.2.1 <\(address)>: mailbox busy, try later" }
        return "250 2.1.5 Ok"
    }

    let channel: any Channel
    /// Sessions open now (from connect until QUIT or close) and the most ever open at once.
    let sessions: NIOLockedValueBox<(open: Int, max: Int)>
    var maxConcurrentSessions: Int { sessions.withLockedValue { $0.max } }
    /// The client address of each connection, in order.
    var peers: [String] { state.withLockedValue { $0.commands.filter { $0.hasPrefix("(connect from ") }.map { String($0.dropFirst(14).dropLast()) } } }
    let state: NIOLockedValueBox<(behavior: Behavior, received: [Received], commands: [String], connections: Int)>

    var port: Int { channel.localAddress!.port! }
    var received: [Received] { state.withLockedValue { $0.received } }
    var commands: [String] { state.withLockedValue { $0.commands } }
    var connections: Int { state.withLockedValue { $0.connections } }
    func setBehavior(_ update: @Sendable (inout Behavior) -> Void) { state.withLockedValue { update(&$0.behavior) } }

    private init(channel: any Channel, state: NIOLockedValueBox<(behavior: Behavior, received: [Received], commands: [String], connections: Int)>,
                 sessions: NIOLockedValueBox<(open: Int, max: Int)>) {
        self.channel = channel
        self.sessions = sessions
        self.state = state
    }

    /// `sharingSessionsWith`: count sessions together with another fake (two MX hosts of one provider).
    static func start(ip: String, port: Int, behavior: Behavior = Behavior(), sharingSessionsWith other: FakeMX? = nil)
        async throws -> FakeMX {
        let state = NIOLockedValueBox((behavior: behavior, received: [Received](), commands: [String](), connections: 0))
        let sessions = other?.sessions ?? NIOLockedValueBox((open: 0, max: 0))
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FakeMXHandler(state: state, sessions: sessions))
                }
            }
            .bind(host: ip, port: port).get()
        return FakeMX(channel: channel, state: state, sessions: sessions)
    }

    func stop() async { try? await channel.close() }
}

final class FakeMXHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let state: NIOLockedValueBox<(behavior: FakeMX.Behavior, received: [FakeMX.Received], commands: [String], connections: Int)>
    var buffer = ByteBuffer()
    var inData = false
    var mailFrom = ""
    var recipients: [String] = []
    var data: [UInt8] = []
    let sessions: NIOLockedValueBox<(open: Int, max: Int)>
    var counted = false
    var tlsActive = false

    init(state: NIOLockedValueBox<(behavior: FakeMX.Behavior, received: [FakeMX.Received], commands: [String], connections: Int)>,
         sessions: NIOLockedValueBox<(open: Int, max: Int)>) {
        self.state = state
        self.sessions = sessions
    }

    /// The session ends at QUIT or at the close, whichever comes first.
    func endSession() {
        guard counted else { return }
        counted = false
        sessions.withLockedValue { $0.open -= 1 }
    }

    func channelInactive(context: ChannelHandlerContext) {
        endSession()
        context.fireChannelInactive()
    }

    var behavior: FakeMX.Behavior { state.withLockedValue { $0.behavior } }

    func reply(_ context: ChannelHandlerContext, _ text: String) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        let peer = context.channel.remoteAddress?.ipAddress ?? "?"
        state.withLockedValue {
            $0.connections += 1
            $0.commands.append("(connect from \(peer))")
        }
        counted = true
        sessions.withLockedValue { s in
            s.open += 1
            s.max = max(s.max, s.open)
        }
        let greeting = behavior.greeting
        reply(context, greeting)
        if !greeting.hasPrefix("220") { context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data incoming: NIOAny) {
        var bytes = unwrapInboundIn(incoming)
        buffer.writeBuffer(&bytes)
        while buffer.readableBytes > 0 {
            if inData {
                let b = behavior
                if case .dropMidData = b.data {
                    context.close(promise: nil)
                    return
                }
                data += buffer.readBytes(length: buffer.readableBytes) ?? []
                if data.count >= 5 && Array(data.suffix(5)) == Array("\r\n.\r\n".utf8) || data == Array(".\r\n".utf8) {
                    inData = false
                    let text = String(decoding: data.dropLast(3), as: UTF8.self)
                    switch b.data {
                    case .accept:
                        state.withLockedValue { $0.received.append(.init(mailFrom: mailFrom, recipients: recipients, data: text)) }
                        reply(context, "250 2.0.0 Ok: queued as FAKE")
                    case .reply(let r):
                        reply(context, r)
                    case .stall, .dropMidData:
                        break
                    }
                    recipients = []
                    data = []
                }
                return
            }
            guard let newline = buffer.readableBytesView.firstIndex(of: 10) else { return }
            var line = buffer.readString(length: newline - buffer.readerIndex)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.hasSuffix("\r") { line.removeLast() }
            state.withLockedValue { $0.commands.append(line) }
            let verb = line.split(separator: " ").first.map { $0.uppercased() } ?? ""
            let b = behavior
            switch verb {
            case "EHLO":
                var lines = ["fake.mx.test"]
                if b.pipelining { lines.append("PIPELINING") }
                if let size = b.size { lines.append("SIZE \(size)") }
                if b.tls != nil && !tlsActive { lines.append("STARTTLS") }
                lines += ["8BITMIME", "ENHANCEDSTATUSCODES"]
                for (i, l) in lines.enumerated() { reply(context, "250\(i == lines.count - 1 ? " " : "-")\(l)") }
            case "HELO": reply(context, "250 fake.mx.test")
            case "MAIL":
                mailFrom = Self.path(line)
                recipients = []
                reply(context, "250 2.1.0 Ok")
            case "RCPT":
                let address = Self.path(line)
                let r = b.rcpt(address)
                if r.hasPrefix("2") { recipients.append(address) }
                reply(context, r)
            case "DATA":
                if recipients.isEmpty {
                    reply(context, "554 5.5.1 No valid recipients")
                } else {
                    reply(context, "354 End data with <CR><LF>.<CR><LF>")
                    inData = true
                    data = []
                }
            case "STARTTLS" where b.tls != nil && !tlsActive:
                reply(context, "220 2.0.0 Ready to start TLS")
                tlsActive = true
                buffer.clear()   // RFC 3207 §4.2: nothing pipelined after STARTTLS counts
                state.withLockedValue { $0.commands.append("(tls)") }
                do {
                    try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: b.tls!), position: .first)
                } catch {
                    context.close(promise: nil)
                }
                return
            case "RSET": reply(context, "250 2.0.0 Ok")
            case "NOOP": reply(context, "250 2.0.0 Ok")
            case "QUIT":
                endSession()
                reply(context, "221 2.0.0 Bye")
                context.close(promise: nil)
                return
            default: reply(context, "502 5.5.2 Command not recognized")
            }
        }
    }

    static func path(_ line: String) -> String {
        guard let open = line.firstIndex(of: "<"), let close = line.firstIndex(of: ">"), open < close else { return "" }
        return String(line[line.index(after: open)..<close])
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
