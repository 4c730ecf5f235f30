import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A minimal SMTP client for transcripts: sends raw bytes, reads reply lines, upgrades to TLS.
final class TestClient: Sendable {
    let channel: any Channel
    let inbox: Inbox

    final class Inbox: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let state = NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>(([], false))
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLockedValue { $0.bytes.append(contentsOf: buffer.readableBytesView) }
        }
        func channelInactive(context: ChannelHandlerContext) {
            state.withLockedValue { $0.closed = true }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    init(port: Int, host: String = "127.0.0.1", implicitTLS: Bool = false, serverName: String = "mx.example.test") async throws {
        let inbox = Inbox()
        self.inbox = inbox
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicitTLS { try channel.pipeline.syncOperations.addHandler(try Self.tlsHandler(serverName: serverName)) }
                    try channel.pipeline.syncOperations.addHandler(inbox)
                }
            }
            .connect(host: host, port: port).get()
    }

    static func tlsHandler(serverName: String = "mx.example.test") throws -> NIOSSLClientHandler {
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateVerification = .none
        return try NIOSSLClientHandler(context: NIOSSLContext(configuration: config), serverHostname: serverName)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    func startTLS() async throws {
        try await channel.eventLoop.submit {
            try self.channel.pipeline.syncOperations.addHandler(try Self.tlsHandler(), position: .first)
        }.get()
    }

    /// The next reply line (without CRLF), or nil when the connection closed first.
    func readLine(timeout: Duration = .seconds(10)) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let line: String?? = inbox.state.withLockedValue { s in
                if let lf = s.bytes.firstIndex(of: 10) {
                    var line = Array(s.bytes[..<lf])
                    s.bytes.removeFirst(lf + 1)
                    if line.last == 13 { line.removeLast() }
                    return .some(String(decoding: line, as: UTF8.self))
                }
                return s.closed ? .some(nil) : nil
            }
            if let line { return line }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TranscriptError("timeout waiting for a reply line")
    }

    /// True if nothing arrives within `wait`.
    func isSilent(for wait: Duration) async throws -> Bool {
        try await Task.sleep(for: wait)
        return inbox.state.withLockedValue { $0.bytes.isEmpty }
    }

    func isClosed(within timeout: Duration = .seconds(5)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if inbox.state.withLockedValue({ $0.closed && $0.bytes.isEmpty }) { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// The leaf certificate the server presented (after a TLS handshake).
    func peerCertificate() async throws -> NIOSSLCertificate? {
        try await channel.eventLoop.submit {
            try self.channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
        }.get()
    }

    func close() async {
        try? await channel.close()
    }
}

struct TranscriptError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
