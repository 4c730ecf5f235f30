import NIOCore

/// Decodes the DATA phase (RFC 5321 §4.1.1.4, §4.5.2): removes dot-stuffing, finds the end of
/// the message, and enforces the size limit, incrementally over any chunking of the input.
///
/// Only `<CRLF>.<CRLF>` ends the message. A CR not followed by LF or an LF not preceded by CR
/// ("bare" line endings) is never treated as a line end: the message is read to its real end and
/// then rejected (`550 5.5.2`). That closes SMTP smuggling, where a client hides a second message
/// behind `<LF>.<CRLF>` that a downstream server would see as the end of the first.
/// Past `maxBytes` the decoder keeps reading to the real end but stops storing (`552 5.3.4`).
public struct DataDecoder: Sendable {
    public enum Violation: Sendable, Equatable {
        case bareCR
        case bareLF
    }

    public struct Outcome: Sendable, Equatable {
        /// The message with CRLF line endings, dot-stuffing removed (empty if oversized).
        public var message: ByteBuffer
        /// Size of the message as received (after unstuffing), even when not stored.
        public var size: Int
        public var oversized: Bool
        public var violation: Violation?
    }

    private enum State: Sendable {
        case lineStart, midLine, sawCR, dotAtLineStart, dotCR
    }

    public let maxBytes: Int
    private var state = State.lineStart
    private var message: ByteBuffer
    private var size = 0
    private var violation: Violation?

    /// `headroom`: bytes left free in front of the message, so that the server can put its trace fields
    /// (`Received:`, `Authentication-Results:`) on top without copying the message (`ByteBuffer.prepend`).
    /// `expectedBytes`: the size the client declared (SIZE=), if any: the first buffer is made that large (up
    /// to `maxInitialCapacity`), so that a 100 KB message is not copied three times as its buffer doubles.
    public init(maxBytes: Int, expectedBytes: Int? = nil, headroom: Int = 0,
                allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.maxBytes = maxBytes
        let first = min(max(expectedBytes ?? 0, Self.defaultInitialCapacity), Self.maxInitialCapacity, maxBytes)
        var message = allocator.buffer(capacity: max(first, 0) + headroom)
        message.moveWriterIndex(forwardBy: headroom)
        message.moveReaderIndex(forwardBy: headroom)
        self.message = message
    }

    /// The first buffer without a declared size, and the most a declared size reserves before any byte came
    /// (a client announcing 50 MB and sending nothing must not cost 50 MB).
    public static let defaultInitialCapacity = 16 * 1024
    public static let maxInitialCapacity = 1024 * 1024

    /// Decoded bytes held so far and not yet taken (`takeStored`).
    public var storedBytes: Int { message.readableBytes }

    /// Hands over the decoded bytes held so far, so that the shell can write a large message to disk as it
    /// arrives; the decoder goes on with an empty buffer, and the final outcome's `message` holds only what
    /// came after the last call. Size limit and violations still count the whole message. `reserving`: the
    /// capacity of the new buffer (the shell's write size, so that it does not grow by doubling each time).
    public mutating func takeStored(reserving capacity: Int = 16 * 1024) -> ByteBuffer {
        let taken = message
        message = ByteBufferAllocator().buffer(capacity: capacity)
        return taken
    }

    private mutating func emit(_ byte: UInt8) {
        size += 1
        if size <= maxBytes { message.writeInteger(byte) }
    }

    /// A run of ordinary bytes (no CR, no LF) copied at once: most of a message.
    private mutating func emit(_ run: UnsafeRawBufferPointer) {
        let room = max(0, maxBytes - size)
        size += run.count
        if room > 0 { message.writeBytes(UnsafeRawBufferPointer(rebasing: run.prefix(room))) }
    }

    private mutating func note(_ v: Violation) {
        if violation == nil { violation = v }
    }

    /// Consumes bytes from `buffer` up to and including the terminating `.CRLF`. Returns the
    /// outcome when the end was found (the rest of `buffer` is left unread: pipelined commands),
    /// nil when more input is needed (then `buffer` has been consumed entirely).
    public mutating func decode(_ buffer: inout ByteBuffer) -> Outcome? {
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), dot = UInt8(ascii: ".")
        var consumed = 0
        var finished = false
        buffer.withUnsafeReadableBytes { bytes in
            let count = bytes.count
            while consumed < count {
                if state == .midLine || (state == .lineStart && bytes[consumed] != dot) {
                    // The fast path: ordinary lines are copied as they are, as many as follow each other in
                    // this chunk — up to the first CR or LF that needs a decision: one not part of a CRLF,
                    // a CRLF followed by a dot or by the end of the chunk. (A line starting with anything but
                    // a dot is read as from the middle of a line, which is what `.lineStart` does with it.)
                    var end = consumed
                    while true {
                        let lineBreak = ByteScan.firstLineBreak(in: bytes, from: end)
                        guard lineBreak + 2 < count, bytes[lineBreak] == cr, bytes[lineBreak + 1] == lf,
                              bytes[lineBreak + 2] != dot else {
                            end = lineBreak
                            break
                        }
                        end = lineBreak + 2
                    }
                    if end > consumed {
                        emit(UnsafeRawBufferPointer(rebasing: bytes[consumed..<end]))
                        consumed = end
                        state = .midLine
                        if end == count { break }
                    }
                }
                let byte = bytes[consumed]
                consumed += 1
                switch state {
                case .lineStart:
                    if byte == dot { state = .dotAtLineStart; continue }
                    fallthrough
                case .midLine:
                    if byte == cr { state = .sawCR }
                    else {
                        if byte == lf { note(.bareLF) }
                        emit(byte)
                        state = .midLine
                    }
                case .sawCR:
                    if byte == lf { emit(cr); emit(lf); state = .lineStart }
                    else if byte == cr { note(.bareCR); emit(cr) }
                    else { note(.bareCR); emit(cr); if byte == lf { note(.bareLF) }; emit(byte); state = .midLine }
                case .dotAtLineStart:
                    // A leading dot is removed (transparency, §4.5.2); ".\r" may be the end.
                    if byte == cr { state = .dotCR }
                    else { if byte == lf { note(.bareLF) }; emit(byte); state = .midLine }
                case .dotCR:
                    if byte == lf { finished = true; return }
                    note(.bareCR)
                    emit(cr)
                    if byte == cr { state = .sawCR } else { if byte == lf { note(.bareLF) }; emit(byte); state = .midLine }
                }
            }
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        guard finished else { return nil }
        let oversized = size > maxBytes
        if oversized { message.clear() }
        let outcome = Outcome(message: message, size: size, oversized: oversized, violation: violation)
        return outcome
    }
}
