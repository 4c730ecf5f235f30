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
