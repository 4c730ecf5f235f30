import NIOCore

/// Splits a TCP byte stream into DNS messages: each is preceded by a two-byte length (RFC 1035 §4.2.2,
/// RFC 7766 §8). Feed bytes as they arrive, in any chunking; take complete frames with `nextFrame()`.
public struct DNSStreamFramer: Sendable {
    var pending = ByteBuffer()

    public init() {}

    public mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        pending.writeBuffer(&bytes)
    }

    /// The next complete message's bytes, or nil until more bytes arrive.
    public mutating func nextFrame() -> ByteBuffer? {
        guard let length: UInt16 = pending.getInteger(at: pending.readerIndex),
              pending.readableBytes >= 2 + Int(length) else { return nil }
        pending.moveReaderIndex(forwardBy: 2)
        let frame = pending.readSlice(length: Int(length))
        pending.discardReadBytes()
        return frame
    }

    /// Prefixes an encoded message with its length.
    public static func frame(_ message: ByteBuffer) -> ByteBuffer {
        var out = ByteBuffer()
        out.writeInteger(UInt16(truncatingIfNeeded: message.readableBytes))
        out.writeImmutableBuffer(message)
        return out
    }
}
