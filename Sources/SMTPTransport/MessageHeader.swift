import NIOCore

/// Where a message's header section ends (RFC 5322 §2.1): used while DATA arrives (what to keep in memory of a
/// message spilled to disk) and by the inbound checks (what DMARC reads of an unsigned message).
public enum MessageHeader {
    /// The offset just past the empty line that ends the header section (`CRLF CRLF`, or a CRLF at the very
    /// start: no header fields), or nil when it is not in `buffer` yet.
    public static func end(in buffer: ByteBuffer, from start: Int = 0) -> Int? {
        buffer.withUnsafeReadableBytes { b in
            if start == 0, b.count >= 2, b[0] == 13, b[1] == 10 { return 2 }
            var i = start
            while i + 3 < b.count {
                if b[i + 3] != 10 { i += b[i + 3] == 13 ? 1 : 4; continue }
                if b[i] == 13, b[i + 1] == 10, b[i + 2] == 13 { return i + 4 }
                i += 1
            }
            return nil
        }
    }
}
