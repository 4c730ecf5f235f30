import SMTPProtocol

/// A reply as the client reads it: the code and the text of each line (after `250-` / `250 `).
public struct SMTPClientReply: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var lines: [String] {
        didSet { extensions = Self.keywords(lines) }
    }
    /// EHLO keywords (RFC 5321 §4.1.1.1): the first word of each line after the greeting line, upper-cased,
    /// with the rest of the line. Parsed once, when the reply is made: a pooled session's EHLO reply is
    /// consulted at every transaction (parsing it each time was 2% of the delivery's instructions).
    public private(set) var extensions: [String: String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
        self.extensions = Self.keywords(lines)
    }

    public var isPositive: Bool { code < 400 }
    public var isTransient: Bool { (400..<500).contains(code) }
    public var isPermanent: Bool { code >= 500 }

    /// The enhanced status code at the start of the first line (RFC 2034), if any.
    public var enhancedStatus: String? {
        guard let first = lines.first, let word = SMTPReplyParser.statusWord(first),
              word.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2,
              let klass = word.utf8.first, klass == UInt8(ascii: "2") || klass == UInt8(ascii: "4") || klass == UInt8(ascii: "5"),
              word.utf8.dropFirst().first == UInt8(ascii: ".") else { return nil }
        return String(word)
    }

    /// `550 5.1.1 text | more text`, for logs and DSNs.
    public var description: String { "\(code) " + lines.joined(separator: " | ") }

    private static func keywords(_ lines: [String]) -> [String: String] {
        guard lines.count > 1 else { return [:] }
        var out: [String: String] = [:]
        for line in lines.dropFirst() {
            let words = line.split(separator: " ", maxSplits: 1)
            guard let key = words.first else { continue }
            out[key.uppercased()] = words.count > 1 ? String(words[1]) : ""
        }
        return out
    }
}
