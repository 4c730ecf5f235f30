/// The recursive-descent reader behind `ProtoText.parse`: a cursor over the bytes that counts lines.
struct ProtoTextParser {
    let bytes: [UInt8]
    var index = 0
    var line = 1

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(ProtoTextError) -> [ProtoTextField] {
        let fields = try fieldList(closing: nil, depth: 0)
        return fields
    }

    func fail(_ reason: String) -> ProtoTextError { ProtoTextError(line: line, reason: reason) }

    // MARK: structure

    /// Fields up to `closing` (or the end of input when nil), consuming the closing byte.
    mutating func fieldList(closing: UInt8?, depth: Int) throws(ProtoTextError) -> [ProtoTextField] {
        guard depth <= ProtoText.maxDepth else { throw fail("messages nested more than \(ProtoText.maxDepth) deep") }
        var fields: [ProtoTextField] = []
        while true {
            skipSpace()
            guard let byte = peek() else {
                if let closing { throw fail("unexpected end of file: missing \"\(Character(Unicode.Scalar(closing)))\"") }
                return fields
            }
            if byte == closing { index += 1; return fields }
            fields += try field(depth: depth)
            skipSpace()
            if peek() == UInt8(ascii: ";") || peek() == UInt8(ascii: ",") { index += 1 }
        }
    }

    /// `name: scalar`, `name: [v, v]`, `name {…}` or `name: {…}`; a list gives one field per element.
    mutating func field(depth: Int) throws(ProtoTextError) -> [ProtoTextField] {
        let fieldLine = line
        guard let first = peek(), Self.isIdentifierStart(first) else {
            throw fail("expected a field name, found \(describe(peek()))")
        }
        let name = identifier()
        skipSpace()
        var colon = false
        if peek() == UInt8(ascii: ":") { index += 1; colon = true; skipSpace() }
        if peek() == UInt8(ascii: "[") {
            guard colon else { throw fail("expected \":\" after \"\(name)\"") }
            index += 1
            var fields: [ProtoTextField] = []
            skipSpace()
            if peek() == UInt8(ascii: "]") { index += 1; return [] }
            while true {
                skipSpace()
                let elementLine = line
                fields.append(ProtoTextField(name: name, value: try value(name: name, depth: depth, colon: true), line: elementLine))
                skipSpace()
                guard let next = peek() else { throw fail("unexpected end of file in the list of \"\(name)\"") }
                index += 1
                if next == UInt8(ascii: "]") { return fields }
                guard next == UInt8(ascii: ",") else { throw fail("expected \",\" or \"]\" in the list of \"\(name)\", found \(describe(next))") }
            }
        }
        return [ProtoTextField(name: name, value: try value(name: name, depth: depth, colon: colon), line: fieldLine)]
    }

    mutating func value(name: String, depth: Int, colon: Bool) throws(ProtoTextError) -> ProtoTextValue {
        guard let byte = peek() else { throw fail("unexpected end of file: \"\(name)\" has no value") }
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "<"):
            index += 1
            let closing = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: ">")
            return .message(try fieldList(closing: closing, depth: depth + 1))
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            guard colon else { throw fail("expected \":\" after \"\(name)\"") }
            var result: [UInt8] = []
            repeat {
                result += try quotedString()
                skipSpace()
            } while peek() == UInt8(ascii: "\"") || peek() == UInt8(ascii: "'")
            return .string(result)
        default:
            guard colon else { throw fail("expected \":\" after \"\(name)\"") }
            let start = index
            while let b = peek(), Self.isTokenByte(b) { index += 1 }
            guard index > start else { throw fail("\"\(name)\" has no value: found \(describe(byte))") }
            return .token(String(decoding: bytes[start..<index], as: UTF8.self))
        }
    }

    // MARK: lexing

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Skips spaces, tabs, line ends (counting lines) and `#` comments.
    mutating func skipSpace() {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "\n"): line += 1; index += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0B, 0x0C: index += 1
            case UInt8(ascii: "#"):
                while let b = peek(), b != UInt8(ascii: "\n") { index += 1 }
            default: return
            }
        }
    }

    mutating func identifier() -> String {
        let start = index
        while let b = peek(), Self.isIdentifierStart(b) || (b >= 0x30 && b <= 0x39) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    static func isIdentifierStart(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
    }

    /// Numbers (`-12`, `0x1F`, `1.5e-3`), enum names and booleans.
    static func isTokenByte(_ b: UInt8) -> Bool {
        isIdentifierStart(b) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
            || b == UInt8(ascii: ".")
    }

    func describe(_ byte: UInt8?) -> String {
        guard let byte else { return "the end of the file" }
        if byte >= 0x21 && byte < 0x7F { return "\"\(Character(Unicode.Scalar(byte)))\"" }
        return "byte 0x\(String(byte, radix: 16))"
    }
}
