/// Protocol Buffers text format, the subset chasquid writes and reads: its `chasquid.conf`, the users files
/// (`domains/<domain>/users`) and the queue items (`<data_dir>/queue/m:<id>`).
///
///     # a comment
///     hostname: "mx.example.com"              a scalar field: a quoted string, or a token (number, enum, bool)
///     users: { key: "alice" value: { … } }    a message field; the ":" is optional, "<" ">" work as braces
///     smtp_address: [":25", ":2525"]          a list: the same as repeating the field
///     salt: "\x9e\x87+`\xb8\xd3n…"            strings are bytes: C escapes (\n \" \\ \x9e \123 \u00e9)
///                                             and raw UTF-8; adjacent strings are concatenated
///
/// The parser is pure and keeps each field's line, so that callers can say "file:line: what is wrong".
/// Nesting is limited to `maxDepth`, so hostile input cannot exhaust the stack.
public enum ProtoText {
    /// Messages nested deeper than this are refused (chasquid's files nest three levels).
    public static let maxDepth = 64

    /// Parses a whole document: its top-level fields, in order.
    public static func parse(_ bytes: [UInt8]) throws(ProtoTextError) -> [ProtoTextField] {
        var parser = ProtoTextParser(bytes)
        return try parser.document()
    }

    public static func parse(_ text: String) throws(ProtoTextError) -> [ProtoTextField] {
        try parse(Array(text.utf8))
    }

    /// The text form of `fields`, one field a line, indented by two spaces per level. Strings are quoted with
    /// printable ASCII kept and every other byte written as a three-digit octal escape, so `parse(encode(x))`
    /// gives `x` back (up to line numbers).
    public static func encode(_ fields: [ProtoTextField], indent: String = "") -> String {
        var out = ""
        for field in fields {
            switch field.value {
            case .string(let bytes): out += "\(indent)\(field.name): \(quote(bytes))\n"
            case .token(let token): out += "\(indent)\(field.name): \(token)\n"
            case .message(let inner):
                out += "\(indent)\(field.name): {\n" + encode(inner, indent: indent + "  ") + "\(indent)}\n"
            }
        }
        return out
    }

    /// `"…"` with escapes as `encode` writes them.
    public static func quote(_ bytes: [UInt8]) -> String {
        var out = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let octal = String(byte, radix: 8)
                out += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
            }
        }
        return out + "\""
    }
}

/// One field of a text-format message, with the 1-based line its name is on.
public struct ProtoTextField: Sendable, Hashable {
    public var name: String
    public var value: ProtoTextValue
    public var line: Int

    public init(name: String, value: ProtoTextValue, line: Int) {
        self.name = name
        self.value = value
        self.line = line
    }

    /// The same field with every line number set to 0, to compare structure only.
    public var withoutLines: ProtoTextField {
        var copy = self
        copy.line = 0
        if case .message(let inner) = value { copy.value = .message(inner.map(\.withoutLines)) }
        return copy
    }
}

public enum ProtoTextValue: Sendable, Hashable {
    /// A quoted string (or several, concatenated): raw bytes after unescaping.
    case string([UInt8])
    /// An unquoted scalar: a number, an enum value name, `true`/`false`.
    case token(String)
    case message([ProtoTextField])
}

/// What is wrong, and on which line (1-based).
public struct ProtoTextError: Error, Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}
