/// A value in the TOML subset that `apus.toml` uses.
public enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    /// "a string", "an integer", … for error messages.
    public var typeDescription: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .boolean: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

/// A TOML table: keys in file order, each with its value and the line it was set on.
public struct TOMLTable: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var value: TOMLValue
        /// The line of `key = value`, or of the `[header]` for a table.
        public var line: Int
    }

    /// Keys in the order they first appear.
    public private(set) var keys: [String] = []
    private var entries: [String: Entry] = [:]

    public init() {}

    public subscript(key: String) -> Entry? { entries[key] }

    /// The line where the value at `path` (`["limits", "max_recipients"]`) was set, if it was.
    public func line(of path: [String]) -> Int? {
        guard let first = path.first, let entry = entries[first] else { return nil }
        if path.count == 1 { return entry.line }
        guard case .table(let sub) = entry.value else { return nil }
        return sub.line(of: Array(path.dropFirst())) ?? entry.line
    }

    mutating func set(_ key: String, _ entry: Entry) {
        if entries.updateValue(entry, forKey: key) == nil { keys.append(key) }
    }
}

/// The parsed text of a TOML file, restricted to the subset Apus uses:
///
/// - comments from `#` to the end of the line; blank lines;
/// - table headers `[table]` and `[a.b]` (bare or quoted keys), each at most once;
/// - `key = value` with a bare key (`A-Za-z0-9_-`) or a quoted one (`"key"`, `'key'`), each at most once;
/// - values: basic strings `"…"` with the escapes `\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX`, literal strings
///   `'…'`, decimal integers (`+`/`-` sign, `_` between digits), `true`/`false`, and arrays `[…]` that may span
///   lines, hold comments and end with a trailing comma.
///
/// Anything else (floats, dates, inline tables, multi-line strings, arrays of tables, dotted keys in
/// `key = value`) is refused with an error naming the line.
public struct TOMLDocument: Sendable, Equatable {
    public var path: String
    public var root: TOMLTable

    public static func parse(_ text: String, path: String) throws -> TOMLDocument {
        var parser = TOMLParser(text: text, path: path)
        return TOMLDocument(path: path, root: try parser.parseDocument())
    }
}

private struct TOMLParser {
    let s: [Unicode.Scalar]
    let path: String
    var i = 0
    var line = 1
    var root = TOMLTable()
    var currentTable: [String] = []
    /// Tables named by a header (so a second `[x]` is an error) or holding values.
    var definedTables: Set<[String]> = [[]]
    /// Inside `[[name]]` (an array of tables, top level only): values go into its last table.
    var currentArray: String?
    var definedArrays: Set<String> = []

    init(text: String, path: String) {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        self.s = scalars
        self.path = path
    }

    func error(_ reason: String, line: Int? = nil) -> ConfigError {
        ConfigError(path: path, line: line ?? self.line, reason: reason)
    }

    var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }
    func peek(_ offset: Int) -> Unicode.Scalar? { i + offset < s.count ? s[i + offset] : nil }

    mutating func skipSpaces() {
        while let c = peek, c == " " || c == "\t" { i += 1 }
    }

    mutating func skipComment() throws {
        guard peek == "#" else { return }
        while let c = peek, c != "\n", c != "\r" {
            if c.value < 0x20 && c != "\t" || c.value == 0x7F { throw error("control character U+\(hex(c.value)) in a comment") }
            i += 1
        }
    }

    /// Consumes a newline (LF or CRLF); returns false if none is here.
    mutating func newline() throws -> Bool {
        if peek == "\n" { i += 1; line += 1; return true }
        if peek == "\r" {
            guard peek(1) == "\n" else { throw error("a carriage return must be followed by a line feed") }
            i += 2; line += 1; return true
        }
        return false
    }

    /// After a header or a key/value: spaces, an optional comment, then the end of the line or file.
    mutating func endOfLine() throws {
        skipSpaces()
        try skipComment()
        if peek == nil { return }
        guard try newline() else { throw error("unexpected \(describe(peek!)) after the value; put one key = value per line") }
    }

    mutating func parseDocument() throws -> TOMLTable {
        while let c = peek {
            switch c {
            case " ", "\t": skipSpaces()
            case "#": try skipComment()
            case "\n", "\r": _ = try newline()
            case "[": try parseHeader(); try endOfLine()
            default: try parseKeyValue(); try endOfLine()
            }
        }
        return root
    }

    // [a.b] header
    mutating func parseHeader() throws {
        let headerLine = line
        i += 1  // "["
        if peek == "[" { try parseArrayHeader(headerLine); return }
        currentArray = nil
        var names: [String] = []
        while true {
            skipSpaces()
            names.append(try parseKey())
            skipSpaces()
            if peek == "." { i += 1; continue }
            if peek == "]" { i += 1; break }
            throw error("expected \"]\" to close the table header")
        }
        let shown = "[" + names.map(Self.displayKey).joined(separator: ".") + "]"
        if definedTables.contains(names) { throw error("duplicate table \(shown)") }
        definedTables.insert(names)
        try makeTable(at: names, headerLine: headerLine, shown: shown)
        currentTable = names
    }

    // [[name]] header: a new table appended to the top-level array `name` (e.g. [[webhooks]]).
    mutating func parseArrayHeader(_ headerLine: Int) throws {
        i += 1  // second "["
        skipSpaces()
        let name = try parseKey()
        skipSpaces()
        guard peek == "]", peek(1) == "]" else {
            throw error("expected \"]]\" to close the array-of-tables header (only [[name]] at the top level is supported)")
        }
        i += 2
        var items: [TOMLValue] = []
        if let existing = root[name] {
            guard case .array(let list) = existing.value, definedArrays.contains(name) else {
                throw error("[[\(Self.displayKey(name))]]: \"\(name)\" is already set on line \(existing.line)")
            }
            items = list
        }
        items.append(.table(TOMLTable()))
        root.set(name, .init(value: .array(items), line: root[name]?.line ?? headerLine))
        definedArrays.insert(name)
        currentArray = name
        currentTable = []
    }

    /// Creates the tables along `names` (those that do not exist yet), refusing to turn a value into a table.
    mutating func makeTable(at names: [String], headerLine: Int, shown: String) throws {
        func make(_ table: inout TOMLTable, _ rest: ArraySlice<String>) throws {
            guard let key = rest.first else { return }
            var sub: TOMLTable
            let line: Int
            if let existing = table[key] {
                guard case .table(let t) = existing.value else {
                    throw error("\(shown): \"\(key)\" is already set to a value on line \(existing.line)")
                }
                sub = t
                line = rest.count == 1 ? headerLine : existing.line
            } else {
                sub = TOMLTable()
                line = headerLine
            }
            try make(&sub, rest.dropFirst())
            table.set(key, .init(value: .table(sub), line: line))
        }
        var newRoot = root
        try make(&newRoot, names[...])
        root = newRoot
    }

    mutating func parseKeyValue() throws {
        let keyLine = line
        let key = try parseKey()
        skipSpaces()
        if peek == "." { throw error("dotted keys are not supported; use a [table] header") }
        guard peek == "=" else {
            throw error("expected \"=\" after the key \(Self.displayKey(key))")
        }
        i += 1
        skipSpaces()
        let value = try parseValue()
        try insert(key: key, value: value, line: keyLine)
    }

    mutating func insert(key: String, value: TOMLValue, line keyLine: Int) throws {
        let tablePath = currentTable
        let shownTable = tablePath.isEmpty ? "" : " in [" + tablePath.map(Self.displayKey).joined(separator: ".") + "]"
        func put(_ table: inout TOMLTable, _ rest: ArraySlice<String>) throws {
            if let next = rest.first {
                guard case .table(var sub) = table[next]?.value else { return }  // created by the header
                try put(&sub, rest.dropFirst())
                table.set(next, .init(value: .table(sub), line: table[next]!.line))
                return
            }
            if let existing = table[key] {
                throw error("duplicate key \(Self.displayKey(key))\(shownTable) (first set on line \(existing.line))", line: keyLine)
            }
            table.set(key, .init(value: value, line: keyLine))
        }
        if let array = currentArray, case .array(var items) = root[array]?.value,
           case .table(var last) = items.last {
            if let existing = last[key] {
                throw error("duplicate key \(Self.displayKey(key)) in [[\(array)]] (first set on line \(existing.line))", line: keyLine)
            }
            last.set(key, .init(value: value, line: keyLine))
            items[items.count - 1] = .table(last)
            root.set(array, .init(value: .array(items), line: root[array]!.line))
            return
        }
        var newRoot = root
        try put(&newRoot, tablePath[...])
        root = newRoot
    }

    // bare-key | "basic" | 'literal'
    mutating func parseKey() throws -> String {
        guard let c = peek else { throw error("expected a key") }
        if c == "\"" { return try parseBasicString() }
        if c == "'" { return try parseLiteralString() }
        let start = i
        while let c = peek, Self.isBareKeyChar(c) { i += 1 }
        guard i > start else {
            throw error("expected a key, found \(describe(c))")
        }
        return String(String.UnicodeScalarView(s[start..<i]))
    }

    static func isBareKeyChar(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
        default: false
        }
    }

    mutating func parseValue() throws -> TOMLValue {
        guard let c = peek else { throw error("expected a value after \"=\"") }
        switch c {
        case "\"": return .string(try parseBasicString())
        case "'": return .string(try parseLiteralString())
        case "[": return try parseArray()
        case "{": throw error("inline tables ({…}) are not supported; use a [table] header")
        case "\n", "\r", "#": throw error("expected a value after \"=\"")
        default: return try parseBareValue()
        }
    }

    mutating func parseBasicString() throws -> String {
        let startLine = line
        i += 1  // opening quote
        if peek == "\"" && peek(1) == "\"" { throw error("multi-line strings (\"\"\") are not supported") }
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek else { throw error("unterminated string", line: startLine) }
            switch c {
            case "\"":
                i += 1
                return String(out)
            case "\\":
                i += 1
                guard let e = peek else { throw error("unterminated string", line: startLine) }
                i += 1
                switch e {
                case "b": out.append("\u{08}")
                case "t": out.append("\t")
                case "n": out.append("\n")
                case "f": out.append("\u{0C}")
                case "r": out.append("\r")
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "u": out.append(try parseUnicodeEscape(digits: 4))
                case "U": out.append(try parseUnicodeEscape(digits: 8))
                default: throw error("invalid escape \"\\\(e)\" in a string")
                }
            case "\n", "\r":
                throw error("unterminated string (a string must end on the line it starts)", line: startLine)
            default:
                if c.value < 0x20 && c != "\t" || c.value == 0x7F {
                    throw error("control character U+\(hex(c.value)) in a string; write it as \\u\(hex(c.value))")
                }
                out.append(c)
                i += 1
            }
        }
    }

    mutating func parseUnicodeEscape(digits: Int) throws -> Unicode.Scalar {
        guard i + digits <= s.count else { throw error("\\u needs \(digits) hex digits") }
        let text = String(String.UnicodeScalarView(s[i..<(i + digits)]))
        guard text.allSatisfy(\.isHexDigit), let value = UInt32(text, radix: 16) else {
            throw error("\\u needs \(digits) hex digits, not \"\(text)\"")
        }
        guard let scalar = Unicode.Scalar(value) else { throw error("\\u\(text) is not a Unicode scalar value") }
        i += digits
        return scalar
    }

    mutating func parseLiteralString() throws -> String {
        let startLine = line
        i += 1
        if peek == "'" && peek(1) == "'" { throw error("multi-line strings (''') are not supported") }
        let start = i
        while let c = peek, c != "'" {
            if c == "\n" || c == "\r" { throw error("unterminated string (a string must end on the line it starts)", line: startLine) }
            if c.value < 0x20 && c != "\t" || c.value == 0x7F { throw error("control character U+\(hex(c.value)) in a string") }
            i += 1
        }
        guard peek == "'" else { throw error("unterminated string", line: startLine) }
        let text = String(String.UnicodeScalarView(s[start..<i]))
        i += 1
        return text
    }

    /// Whitespace, newlines and comments between array elements.
    mutating func skipArraySpace() throws {
        while true {
            skipSpaces()
            try skipComment()
            if try !newline() { return }
        }
    }

    mutating func parseArray() throws -> TOMLValue {
        let startLine = line
        i += 1  // "["
        var items: [TOMLValue] = []
        while true {
            try skipArraySpace()
            guard let c = peek else { throw error("unterminated array (missing \"]\")", line: startLine) }
            if c == "]" { i += 1; return .array(items) }
            items.append(try parseValue())
            try skipArraySpace()
            guard let d = peek else { throw error("unterminated array (missing \"]\")", line: startLine) }
            if d == "," { i += 1; continue }
            if d == "]" { i += 1; return .array(items) }
            throw error("expected \",\" or \"]\" in the array, found \(describe(d))")
        }
    }

    mutating func parseBareValue() throws -> TOMLValue {
        let start = i
        while let c = peek, Self.isBareKeyChar(c) || c == "+" || c == "." || c == ":" { i += 1 }
        let word = String(String.UnicodeScalarView(s[start..<i]))
        if word.isEmpty {
            throw error("expected a value (a \"string\", an integer, true, false or an [array]), found \(describe(peek!))")
        }
        switch word {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf", "-inf", "nan", "+nan", "-nan": throw error("floating-point numbers are not supported")
        default: break
        }
        if let n = Self.integer(word) { return .integer(n) }
        let body = word.hasPrefix("+") || word.hasPrefix("-") ? String(word.dropFirst()) : word
        if body.first?.isNumber == true {
            if body.contains(":") || body.filter({ $0 == "-" }).count == 2 { throw error("dates and times are not supported; write durations as \"30s\", \"5m\", \"2h\" or \"5d\"") }
            if body.hasPrefix("0x") || body.hasPrefix("0o") || body.hasPrefix("0b") { throw error("only decimal integers are supported, not \(word)") }
            if body.contains(".") || body.contains("e") || body.contains("E") { throw error("floating-point numbers are not supported") }
            throw error("invalid integer \(word)")
        }
        throw error("invalid value \(word); a string needs quotes: \"\(word)\"")
    }

    /// A TOML decimal integer: optional sign, no leading zeros, `_` only between digits.
    static func integer(_ word: String) -> Int? {
        var body = Substring(word)
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber, body.last?.isNumber == true else { return nil }
        if first == "0" && body.count > 1 { return nil }
        var previousUnderscore = false
        var digits = ""
        for ch in body {
            if ch == "_" {
                if previousUnderscore { return nil }
                previousUnderscore = true
            } else if ch.isASCII && ch.isNumber {
                previousUnderscore = false
                digits.append(ch)
            } else {
                return nil
            }
        }
        return Int(negative ? "-" + digits : digits)
    }

    func describe(_ c: Unicode.Scalar) -> String {
        switch c {
        case "\n", "\r": "the end of the line"
        case _ where c.value < 0x20 || c.value == 0x7F: "control character U+\(hex(c.value))"
        default: "\"\(Character(c))\""
        }
    }

    static func displayKey(_ key: String) -> String {
        !key.isEmpty && key.unicodeScalars.allSatisfy(isBareKeyChar) ? key : TOMLWriter.quote(key)
    }
}

private func hex(_ v: UInt32) -> String {
    let h = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - h.count)) + h
}

/// Writes TOML values in the form `TOMLDocument` reads back.
enum TOMLWriter {
    /// A basic string with the escapes TOML requires.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u" + hex(scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func key(_ key: String) -> String { TOMLParser.displayKey(key) }

    static func stringArray(_ items: [String]) -> String {
        "[" + items.map(quote).joined(separator: ", ") + "]"
    }
}
