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
        out.reserveCapacity(lines.reduce(0) { $0 + $1.count } * 3 / 2 + lines.count * 2)
        for line in lines {
            var length = 0   // of the output line so far
            for (index, byte) in line.enumerated() {
                let last = index == line.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                    || ((byte == 0x20 || byte == 0x09) && !last)
                let width = literal ? 1 : 3
                // Room for the piece plus a soft break `=`, unless this piece ends the line.
                if length + width > (last ? maxLineLength : maxLineLength - 1) {
                    out += [UInt8(ascii: "="), 0x0D, 0x0A]
                    length = 0
                }
                if literal {
                    out.append(byte)
                } else {
                    out.append(UInt8(ascii: "="))
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0x0F)])
                }
                length += width
            }
            out += [0x0D, 0x0A]
        }
        return out
    }

    static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// `=XX` for one byte.
    static func escape(_ byte: UInt8) -> [UInt8] {
        [UInt8(ascii: "="), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
    }
}
