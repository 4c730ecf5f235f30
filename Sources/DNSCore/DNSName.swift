/// A domain name as a list of labels (RFC 1035 §3.1), compared case-insensitively (RFC 4343).
///
/// Built from text with `init(_:)`, which accepts U-labels and converts them to A-labels (IDNA,
/// RFC 5891 §4 with Punycode, RFC 3492), or from the wire by the decoder. The root name has no labels.
/// `description` is the text form without the final dot; `zoneDescription` adds it.
public struct DNSName: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The labels, as bytes, exactly as received or encoded (case preserved).
    public private(set) var labels: [[UInt8]]

    /// The root name (`.`).
    public static let root = DNSName(validatedLabels: [])

    init(validatedLabels: [[UInt8]]) { self.labels = validatedLabels }

    /// Builds a name from labels, checking the limits of RFC 1035 §2.3.4.
    public init(labels: [[UInt8]]) throws(DNSNameError) {
        for label in labels {
            if label.isEmpty { throw .emptyLabel }
            if label.count > DNSCore.maxLabelLength { throw .labelTooLong(label.count) }
        }
        let wire = labels.reduce(1) { $0 + 1 + $1.count }
        if wire > DNSCore.maxNameLength { throw .nameTooLong(wire) }
        self.labels = labels
    }

    /// Parses a name in text form: dot-separated, an optional final dot, U-labels allowed (converted to
    /// A-labels and lowercased). `\.` and `\DDD` escapes (RFC 1035 §5.1) are honoured.
    public init(_ text: String) throws(DNSNameError) {
        try self.init(labels: try Self.parseLabels(text))
    }

    static func parseLabels(_ text: String) throws(DNSNameError) -> [[UInt8]] {
        if text == "." || text.isEmpty { return [] }
        var body = Substring(text)
        if body.hasSuffix("."), !body.hasSuffix("\\.") { body = body.dropLast() }
        var labels: [[UInt8]] = []
        var current: [UInt8] = []
        var unicode = false
        var iterator = body.unicodeScalars.makeIterator()
        func finish() throws(DNSNameError) {
            if unicode {
                guard let scalars = String(validating: current, as: UTF8.self) else { throw .invalidIDNA }
                current = Array(try IDNA.toASCII(label: scalars).utf8)
            }
            labels.append(current)
            current = []
            unicode = false
        }
        while let scalar = iterator.next() {
            switch scalar {
            case ".":
                try finish()
            case "\\":
                guard let next = iterator.next() else { throw .badEscape }
                if let digit = next.properties.numericType, digit == .decimal, next.isASCII {
                    guard let d2 = iterator.next(), let d3 = iterator.next(),
                          let value = Int(String([Character(next), Character(d2), Character(d3)])), value < 256
                    else { throw .badEscape }
                    current.append(UInt8(value))
                } else if next.isASCII {
                    current.append(UInt8(next.value))
                } else {
                    throw .badEscape
                }
            default:
                if scalar.isASCII {
                    current.append(UInt8(scalar.value))
                } else {
                    unicode = true
                    current.append(contentsOf: Array(String(scalar).utf8))
                }
            }
        }
        try finish()
        return labels
    }

    /// For literals in code and tests. Note that `DNSName("literal")` also lands here (SE-0213) and traps on
    /// an invalid name; text from outside goes through `init(_:)` with a `String` value, which throws.
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("invalid DNS name literal \(value): \(error)") }
    }

    /// The number of octets on the wire (uncompressed), including the final zero.
    public var wireLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    public var isRoot: Bool { labels.isEmpty }

    /// The name with `label` prepended.
    public func prepending(_ label: String) throws(DNSNameError) -> DNSName {
        try DNSName(labels: [Array(label.utf8)] + labels)
    }

    /// The parent name (without the first label), or nil for the root.
    public var parent: DNSName? { labels.isEmpty ? nil : DNSName(validatedLabels: Array(labels.dropFirst())) }

    /// Lowercased labels, the canonical form for comparison (ASCII only, RFC 4343 §3).
    public var lowercased: DNSName {
        DNSName(validatedLabels: labels.map { $0.map(Self.lower) })
    }

    static func lower(_ byte: UInt8) -> UInt8 { (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.labels.count == rhs.labels.count else { return false }
        for (a, b) in zip(lhs.labels, rhs.labels) {
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where lower(x) != lower(y) { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(Self.lower(byte)) }
        }
    }

    /// Text form without the final dot (`.` for the root); bytes outside printable ASCII and `.`/`\`
    /// inside labels are escaped as `\DDD` / `\.` (RFC 1035 §5.1).
    public var description: String {
        if labels.isEmpty { return "." }
        return labels.map(Self.escape).joined(separator: ".")
    }

    /// Text form with the final dot, as in a zone file.
    public var zoneDescription: String { labels.isEmpty ? "." : description + "." }

    /// Text form with A-labels (`xn--…`) decoded to Unicode where they are valid Punycode.
    public var unicodeDescription: String {
        if labels.isEmpty { return "." }
        return labels.map { label in
            let text = Self.escape(label)
            return IDNA.toUnicode(label: text)
        }.joined(separator: ".")
    }

    static func escape(_ label: [UInt8]) -> String {
        var out = ""
        for byte in label {
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""):
                out += "\\" + String(UnicodeScalar(byte))
            case 0x21...0x7E:
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let digits = String(byte)
                out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            }
        }
        return out
    }
}

/// Why a text or label list is not a valid name.
public enum DNSNameError: Error, Sendable, Hashable {
    case emptyLabel
    case labelTooLong(Int)
    case nameTooLong(Int)
    case badEscape
    case invalidIDNA
}
