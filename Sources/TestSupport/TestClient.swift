import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A minimal SMTP client for transcripts: sends raw bytes, reads reply lines, upgrades to TLS.
public final class TestClient: Sendable {
    public let channel: any Channel
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

    public init(port: Int, host: String = "127.0.0.1", implicitTLS: Bool = false, serverName: String = "mx.example.test") async throws {
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

    public static func tlsHandler(serverName: String = "mx.example.test") throws -> NIOSSLClientHandler {
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateVerification = .none
        return try NIOSSLClientHandler(context: NIOSSLContext(configuration: config), serverHostname: serverName)
    }

    public func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    public func startTLS() async throws {
        try await channel.eventLoop.submit {
            try self.channel.pipeline.syncOperations.addHandler(try Self.tlsHandler(), position: .first)
        }.get()
    }

    /// The next reply line (without CRLF), or nil when the connection closed first.
    public func readLine(timeout: Duration = .seconds(10)) async throws -> String? {
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

    /// Sends `line` with CRLF (nothing when nil: for the greeting) and returns the last line of the reply,
    /// continuation lines (`250-…`) skipped; an error when the connection closes first.
    public func command(_ line: String?) async throws -> String {
        if let line { try await send(Array((line + "\r\n").utf8)) }
        while true {
            guard let reply = try await readLine() else { throw TranscriptError("connection closed while waiting for a reply") }
            let bytes = Array(reply.utf8)
            if bytes.count < 4 || bytes[3] != UInt8(ascii: "-") { return reply }
        }
    }

    /// Everything received until the peer closes the connection (for one-shot protocols such as HTTP/1.0).
    public func readUntilClosed(timeout: Duration = .seconds(10)) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while !inbox.state.withLockedValue(\.closed) {
            guard ContinuousClock.now < deadline else { throw TranscriptError("the peer did not close the connection") }
            try await Task.sleep(for: .milliseconds(5))
        }
        return inbox.state.withLockedValue(\.bytes)
    }

    /// True if nothing arrives within `wait`.
    public func isSilent(for wait: Duration) async throws -> Bool {
        try await Task.sleep(for: wait)
        return inbox.state.withLockedValue { $0.bytes.isEmpty }
    }

    public func isClosed(within timeout: Duration = .seconds(5)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if inbox.state.withLockedValue({ $0.closed && $0.bytes.isEmpty }) { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// The leaf certificate the server presented (after a TLS handshake).
    public func peerCertificate() async throws -> NIOSSLCertificate? {
        try await channel.eventLoop.submit {
            try self.channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
        }.get()
    }

    public func close() async {
        try? await channel.close()
    }
}

public struct TranscriptError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
