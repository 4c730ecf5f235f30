/// A `text/plain` or `text/html` body as it goes into a message: line ends made CRLF, then sent as it is
/// (`7bit`, RFC 2045 §2.7) when it is printable ASCII in lines of at most 78 characters with no white space at
/// a line's end and no `=_` (the start of Apus's MIME boundaries), else quoted-printable. Never bare 8-bit.
struct TextBody {
    var contentTransferEncoding: String
    var encoded: [UInt8]

    init(_ text: String) {
        let lines = Self.lines(text)
        if Self.isPlain(lines) {
            contentTransferEncoding = "7bit"
            encoded = lines.flatMap { $0 + [0x0D, 0x0A] }
        } else {
            contentTransferEncoding = "quoted-printable"
            encoded = QuotedPrintable.encode(lines: lines)
        }
    }

    /// The text's lines without their ends; CRLF, a lone CR and a lone LF all end a line. A final line end
    /// does not start another line.
    static func lines(_ text: String) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var previousCR = false
        for byte in text.utf8 {
            if byte == 0x0A && previousCR { previousCR = false; continue }
            previousCR = byte == 0x0D
            if byte == 0x0D || byte == 0x0A {
                lines.append(current)
                current = []
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    static func isPlain(_ lines: [[UInt8]]) -> Bool {
        lines.allSatisfy { line in
            line.count <= HeaderField.foldAt
                && line.allSatisfy { ($0 >= 0x20 && $0 <= 0x7E) || $0 == 0x09 }
                && line.last != 0x20 && line.last != 0x09
                && !zip(line, line.dropFirst()).contains { $0 == UInt8(ascii: "=") && $1 == UInt8(ascii: "_") }
        }
    }
}
