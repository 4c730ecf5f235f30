/// Why a message could not be decoded. Offsets are byte positions from the start of the message.
/// The decoder never traps on bad input: every malformation below is reported instead.
public enum DNSDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Fewer than 12 bytes (RFC 1035 §4.1.1).
    case truncatedHeader
    /// The message ended inside a name.
    case truncatedName(offset: Int)
    /// A compression pointer (RFC 1035 §4.1.4) leads back to a name already being followed.
    case compressionLoop(offset: Int)
    /// A compression pointer that does not point strictly before itself.
    case forwardPointer(offset: Int, target: Int)
    /// A compression pointer beyond the end of the message.
    case pointerOutOfRange(offset: Int, target: Int)
    /// A length octet of 64–191: label longer than 63 (RFC 1035 §2.3.4), or the reserved `01`/`10`
    /// label types (RFC 6891 §5).
    case labelTooLong(offset: Int, length: Int)
    /// The name exceeds 255 octets (RFC 1035 §3.1).
    case nameTooLong(offset: Int)
    /// The message ended inside a question or a record's fixed fields.
    case truncatedRecord(offset: Int)
    /// RDLENGTH reaches past the end of the message.
    case truncatedRData(offset: Int)
    /// The RDATA of a known type does not have the layout its type requires (wrong length,
    /// a name running past RDLENGTH, a character-string past the end).
    case invalidRData(type: DNSRecordType, offset: Int)
    /// A section count promises more entries than the message holds.
    case countMismatch(section: DNSSection, expected: Int, found: Int)
    /// Bytes left after the last section the counts announce.
    case trailingBytes(count: Int)
    /// More than one OPT record, or an OPT outside the additional section / with a non-root owner
    /// (RFC 6891 §6.1.1).
    case invalidOPT(offset: Int)

    public var description: String {
        switch self {
        case .truncatedHeader: return "message shorter than its 12-byte header"
        case .truncatedName(let o): return "name truncated at offset \(o)"
        case .compressionLoop(let o): return "compression pointer loop at offset \(o)"
        case .forwardPointer(let o, let t): return "compression pointer at \(o) points forward to \(t)"
        case .pointerOutOfRange(let o, let t): return "compression pointer at \(o) points outside the message (\(t))"
        case .labelTooLong(let o, let l): return "label length \(l) at offset \(o)"
        case .nameTooLong(let o): return "name longer than 255 octets at offset \(o)"
        case .truncatedRecord(let o): return "record truncated at offset \(o)"
        case .truncatedRData(let o): return "RDATA truncated at offset \(o)"
        case .invalidRData(let t, let o): return "invalid \(t) RDATA at offset \(o)"
        case .countMismatch(let s, let e, let f): return "\(s) count \(e) but \(f) present"
        case .trailingBytes(let n): return "\(n) bytes after the last record"
        case .invalidOPT(let o): return "misplaced or repeated OPT record at offset \(o)"
        }
    }
}

/// The four sections of a message.
public enum DNSSection: String, Sendable, Hashable {
    case question, answer, authority, additional
}
