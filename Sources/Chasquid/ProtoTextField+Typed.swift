/// Reading a field as the type a schema expects, with an error that names the field and its line.
extension ProtoTextField {
    func fail(_ reason: String) -> ProtoTextError { ProtoTextError(line: line, reason: reason) }

    /// A quoted string's raw bytes.
    public func bytes() throws(ProtoTextError) -> [UInt8] {
        guard case .string(let bytes) = value else { throw fail("\"\(name)\" must be a quoted string") }
        return bytes
    }

    /// A quoted string that must be UTF-8.
    public func string() throws(ProtoTextError) -> String {
        let raw = try bytes()
        guard let text = String(validating: raw, as: UTF8.self) else { throw fail("\"\(name)\" is not valid UTF-8") }
        return text
    }

    /// A decimal (or 0x hexadecimal) integer that fits an `Int`.
    public func integer() throws(ProtoTextError) -> Int {
        guard case .token(let token) = value else { throw fail("\"\(name)\" must be a number") }
        var text = Substring(token), negative = false
        if text.hasPrefix("-") { negative = true; text = text.dropFirst() }
        let parsed = text.hasPrefix("0x") || text.hasPrefix("0X") ? Int(text.dropFirst(2), radix: 16) : Int(text)
        guard let value = parsed, !text.isEmpty, text.first != "+" else { throw fail("\"\(name)\" must be an integer, not \(token)") }
        return negative ? -value : value
    }

    /// `true`/`false` (also `True`, `t`, `1`, … as protobuf accepts them).
    public func bool() throws(ProtoTextError) -> Bool {
        guard case .token(let token) = value else { throw fail("\"\(name)\" must be true or false") }
        switch token {
        case "true", "True", "t", "1": return true
        case "false", "False", "f", "0": return false
        default: throw fail("\"\(name)\" must be true or false, not \(token)")
        }
    }

    /// An enum value, by name (or number, as text).
    public func enumValue() throws(ProtoTextError) -> String {
        guard case .token(let token) = value else { throw fail("\"\(name)\" must be an enum value name") }
        return token
    }

    public func message() throws(ProtoTextError) -> [ProtoTextField] {
        guard case .message(let fields) = value else { throw fail("\"\(name)\" must be a message in braces { … }") }
        return fields
    }
}

extension Array where Element == ProtoTextField {
    /// The single field called `name`, or nil; a second one is an error (for non-repeated fields).
    func single(_ name: String) throws(ProtoTextError) -> ProtoTextField? {
        let matches = filter { $0.name == name }
        if matches.count > 1 { throw matches[1].fail("\"\(name)\" is given twice (first on line \(matches[0].line))") }
        return matches.first
    }

    /// The first line of these fields, or `fallback` when there are none.
    func firstLine(or fallback: Int) -> Int { first?.line ?? fallback }
}
