import NIOCore

/// Splits the command stream into lines, bounded (RFC 5321 §4.5.3.1.4 command line limit,
/// raised by `maxLineBytes` for extensions such as AUTH, RFC 4954 §4).
///
/// A line ends at LF; a CR just before it is removed. A line longer than the limit is skipped up to
/// its end and reported once as `.tooLong`, so the framer never holds more than `maxLineBytes`.
/// Unlike NIO's `LineBasedFrameDecoder` it is pure and has a bound, so it can face port 25.
public struct LineFramer: Sendable {
    public enum Event: Sendable, Equatable {
        case line(ByteBuffer)
        case tooLong
    }

    public let maxLineBytes: Int
    private var discarding = false

    public init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// Takes the next complete line out of `buffer`, or nil when more bytes are needed.
    /// Bytes not yet forming a line stay in `buffer`.
    public mutating func next(_ buffer: inout ByteBuffer) -> Event? {
        while true {
            let view = buffer.readableBytesView
            if let lf = view.firstIndex(of: UInt8(ascii: "\n")) {
                let length = lf - view.startIndex
                if discarding {
                    buffer.moveReaderIndex(forwardBy: length + 1)
                    discarding = false
                    return .tooLong
                }
                var line = buffer.readSlice(length: length)!
                buffer.moveReaderIndex(forwardBy: 1)
                if line.readableBytesView.last == UInt8(ascii: "\r") {
                    line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)!
                }
                if line.readableBytes > maxLineBytes { return .tooLong }
                return .line(line)
            }
            // No line end yet: if too long already, drop what we have and remember to skip.
            if buffer.readableBytes > maxLineBytes + 1 {
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                discarding = true
            }
            return nil
        }
    }
}
