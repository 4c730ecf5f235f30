import NIOCore
import NIOPosix
import SMTPTransport
import Testing

/// What a failed connect says: it ends up in the log, in `apus queue show` and in bounces.
@Suite struct SMTPClientConnectTests {
    @Test func refusedConnectionSaysSo() async throws {
        // A port that was free a moment ago: nothing listens there.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        do {
            let connection = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: port, timeouts: .all(.seconds(5)))
            await connection.close()
            Issue.record("connected to a closed port")
        } catch {
            #expect("\(error)" == "connect failed: 127.0.0.1 port \(port): Connection refused")
        }
    }
}

/// Reply timeouts: one timer serves every reply awaited on a connection, re-armed only when a new wait ends
/// sooner than the armed one. A server that answers the greeting and one command and then says nothing.
@Suite struct SMTPClientReplyTimeoutTests {
    final class AnswersOnce: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var lines = 0
        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "220 quiet.test ESMTP\r\n")), promise: nil)
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let text = String(buffer: unwrapInboundIn(data))
            for _ in text.split(separator: "\n") {
                lines += 1
                if lines == 1 { context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "250 ok\r\n")), promise: nil) }
            }
        }
    }

    @Test func aSilentServerTimesOutAtTheShorterDeadline() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.pipeline.addHandler(AnswersOnce()) }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        let connection = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: port, timeouts: .all(.seconds(30)))
        _ = try await connection.readReply(timeout: .seconds(30), waitingFor: "the greeting")
        // Answered: the timer stays armed 30 s out, and must not hold back the next, shorter wait.
        let first = try await connection.command("NOOP", timeout: .seconds(30))
        #expect(first.code == 250)
        let started = ContinuousClock.now
        do {
            _ = try await connection.command("NOOP", timeout: .milliseconds(300))
            Issue.record("a reply came from a server that sends none")
        } catch {
            #expect("\(error)".contains("the reply to NOOP"), "\(error)")
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(290) && waited < .seconds(10), "waited \(waited)")
        await connection.close()
        try await server.close()
    }
}
