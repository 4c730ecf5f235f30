/// Quoted strings: protobuf's C-style escapes, raw bytes (UTF-8 or not) kept as they are.
extension ProtoTextParser {
    /// A `"…"` or `'…'` string at the cursor, unescaped; it may not span lines.
    mutating func quotedString() throws(ProtoTextError) -> [UInt8] {
        let quote = bytes[index]
        index += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw fail("unexpected end of file inside a string") }
            index += 1
            switch byte {
            case quote: return out
            case UInt8(ascii: "\n"): throw fail("a string is not closed before the end of the line")
            case UInt8(ascii: "\\"): try escape(into: &out)
            default: out.append(byte)
            }
        }
    }

    /// The escape after a backslash.
    mutating func escape(into out: inout [UInt8]) throws(ProtoTextError) {
        guard let byte = peek() else { throw fail("unexpected end of file after \"\\\"") }
        index += 1
        switch byte {
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "a"): out.append(0x07)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "v"): out.append(0x0B)
        case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "?"): out.append(byte)
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            var value = Int(byte - 0x30)
            for _ in 0..<2 {
                guard let d = peek(), d >= 0x30 && d <= 0x37 else { break }
                value = value * 8 + Int(d - 0x30)
                index += 1
            }
            guard value <= 0xFF else { throw fail("octal escape \\\(String(value, radix: 8)) is more than one byte") }
            out.append(UInt8(value))
        case UInt8(ascii: "x"), UInt8(ascii: "X"):
            guard let value = hexDigits(max: 2), value.digits > 0 else { throw fail("\"\\x\" is not followed by a hex digit") }
            out.append(UInt8(value.value))
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = byte == UInt8(ascii: "u") ? 4 : 8
            guard let value = hexDigits(max: count), value.digits == count,
                  let scalar = Unicode.Scalar(UInt32(value.value)) else {
                throw fail("\"\\\(Character(Unicode.Scalar(byte)))\" needs \(count) hex digits of a Unicode code point")
            }
            out += Array(String(Character(scalar)).utf8)
        default:
            throw fail("unknown escape \"\\\(describe(byte).trimmingQuotes)\" in a string")
        }
    }

    /// Up to `max` hex digits at the cursor.
    mutating func hexDigits(max: Int) -> (value: Int, digits: Int)? {
        var value = 0, digits = 0
        while digits < max, let d = peek() {
            let v: Int
            switch d {
            case 0x30...0x39: v = Int(d - 0x30)
            case 0x41...0x46: v = Int(d - 0x41 + 10)
            case 0x61...0x66: v = Int(d - 0x61 + 10)
            default: return (value, digits)
            }
            value = value * 16 + v
            digits += 1
            index += 1
        }
        return (value, digits)
    }
}

extension String {
    /// `"x"` → `x`, for quoting a described byte again.
    var trimmingQuotes: String {
        hasPrefix("\"") && hasSuffix("\"") && count >= 2 ? String(dropFirst().dropLast()) : self
    }
}
