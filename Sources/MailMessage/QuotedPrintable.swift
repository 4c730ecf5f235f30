/// Quoted-printable (RFC 2045 §6.7), for text bodies that are not plain short-lined ASCII.
///
/// The input's lines (split at CRLF) stay lines: a CRLF is a hard line break (rule 4). In a line, printable
/// ASCII other than `=` stands for itself (rule 2); every other byte becomes `=XX` with upper-case hex
/// (rule 1), and so does a space or tab at the end of a line (rule 3), which transports may strip. Lines
/// longer than 76 characters are cut with a soft line break `=` (rule 5), never inside an `=XX`.
enum QuotedPrintable {
    static let maxLineLength = 76

    /// `lines` (without their CRLFs) encoded, each output line ending in CRLF.
    static func encode(lines: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for line in lines {
            var current: [UInt8] = []
            for (index, byte) in line.enumerated() {
                let last = index == line.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                    || ((byte == 0x20 || byte == 0x09) && !last)
                let piece: [UInt8] = literal ? [byte] : escape(byte)
                // Room for the piece plus a soft break `=`, unless this piece ends the line.
                let limit = last ? maxLineLength : maxLineLength - 1
                if current.count + piece.count > limit {
                    out += current + Array("=\r\n".utf8)
                    current = []
                }
                current += piece
            }
            out += current + [0x0D, 0x0A]
        }
        return out
    }

    static func escape(_ byte: UInt8) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        return [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
    }
}
