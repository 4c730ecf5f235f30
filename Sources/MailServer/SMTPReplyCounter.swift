import NIOCore
import SMTPProtocol

/// Counts the 4xx and 5xx replies written on one SMTP connection, for `apus_smtp_replies_total`. It sits
/// between TLS and `SMTPServerHandler`, so it sees the replies in plain text; STARTTLS inserts its TLS
/// handler at the front of the pipeline, below this one. A reply's last line is `NNN text` (a space after
/// the code); the lines before it are `NNN-text` (RFC 5321 §4.2.1), so each reply is counted once even
/// when several are written in one buffer.
final class SMTPReplyCounter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let metrics: ServerMetrics
    let listener: ListenerKind

    init(metrics: ServerMetrics, listener: ListenerKind) {
        self.metrics = metrics
        self.listener = listener
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        for code in Self.finalReplyCodes(unwrapOutboundIn(data).readableBytesView) {
            metrics.reply(code, on: listener)
        }
        context.write(data, promise: promise)
    }

    /// The codes of the complete replies in `bytes`: lines of the form `NNN<SP>…` or a bare `NNN`.
    static func finalReplyCodes(_ bytes: ByteBufferView) -> [Int] {
        var codes: [Int] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            let line = bytes[index..<end]
            let digits = line.prefix(3)
            if digits.count == 3, digits.allSatisfy({ (0x30...0x39).contains($0) }) {
                let next = line.dropFirst(3).first
                if next == nil || next == UInt8(ascii: " ") || next == UInt8(ascii: "\r") {
                    codes.append(digits.reduce(0) { $0 * 10 + Int($1 - 0x30) })
                }
            }
            index = end == bytes.endIndex ? end : bytes.index(after: end)
        }
        return codes
    }
}
