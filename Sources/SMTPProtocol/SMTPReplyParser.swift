import NIOCore

/// Reads SMTP replies (RFC 5321 §4.2) from the bytes a server sends: the client side's framing, pure and
/// incremental (feed it whatever arrived; it returns each complete reply once its last line is in).
///
/// ```
/// Reply-line  = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF
/// Reply-code  = %x32-35 %x30-35 %x30-39
/// ```
/// A multi-line reply is `250-first`, `250-second`, `250 last`. Lines end in CRLF; a bare LF is accepted
/// (servers that get it wrong still deliver mail). RFC 5321 says every line carries the same code; when they
/// differ the last line's code counts, as the line that ends the reply. The enhanced status code (RFC 3463,
/// RFC 2034 §4) is read from the start of the first line when its class matches the reply's first digit.
///
/// Limits (`maxLineBytes`, `maxLines`) bound memory whatever the server sends.
public struct SMTPReplyParser: Sendable {
    /// RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets; lenient, but bounded.
    public static let maxLineBytes = 4096
    /// Lines of one multi-line reply (an EHLO reply has a dozen).
    public static let maxLines = 200

    /// One complete reply.
    public struct Reply: Sendable, Hashable {
        public var code: Int
        /// The text of each line, after `250-` / `250 `, without CRLF.
        public var lines: [String]
        /// `5.1.1` at the start of the first line, when present and consistent with `code`.
        public var enhancedStatus: EnhancedStatusCode?

        public init(code: Int, lines: [String], enhancedStatus: EnhancedStatusCode? = nil) {
            self.code = code
            self.lines = lines
            self.enhancedStatus = enhancedStatus
        }

        /// The reply on the wire: `250-a\r\n250 b\r\n` (what a server sends, and what parses back to it).
        public var wireBytes: [UInt8] {
            var out: [UInt8] = []
            for (index, line) in lines.enumerated() {
                out += Array("\(code)\(index == lines.count - 1 ? " " : "-")\(line)\r\n".utf8)
            }
            return out
        }
    }

    /// Why the bytes are not SMTP replies; the connection cannot be trusted after any of them.
    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// A line that does not start with a reply code followed by SP, `-` or the end of the line.
        case notAReply(String)
        case lineTooLong(Int)
        case tooManyLines(Int)

        public var description: String {
            switch self {
            case .notAReply(let line): return "not an SMTP reply: \(line)"
            case .lineTooLong(let limit): return "reply line longer than \(limit) bytes"
            case .tooManyLines(let limit): return "reply of more than \(limit) lines"
            }
        }
    }

    private var partial: [String] = []

    public init() {}

    /// The next complete reply in `buffer`, consuming its bytes; nil when more bytes are needed (what was
    /// read of an unfinished multi-line reply is kept). Throws on bytes that are not a reply.
    public mutating func next(_ buffer: inout ByteBuffer) throws(ParseError) -> Reply? {
        while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - buffer.readerIndex
            guard length <= Self.maxLineBytes else { throw .lineTooLong(Self.maxLineBytes) }
            var line = Array(buffer.readableBytesView[buffer.readerIndex..<newline])
            buffer.moveReaderIndex(forwardBy: length + 1)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if let reply = try take(line) { return reply }
        }
        if buffer.readableBytes > Self.maxLineBytes { throw .lineTooLong(Self.maxLineBytes) }
        return nil
    }

    /// One line without its line end; the reply when it was the last line.
    mutating func take(_ line: [UInt8]) throws(ParseError) -> Reply? {
        guard line.count >= 3, (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(line[0]),
              line[1...2].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              line.count == 3 || line[3] == UInt8(ascii: " ") || line[3] == UInt8(ascii: "-") else {
            throw .notAReply(Self.printable(line.prefix(80)))
        }
        partial.append(line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : "")
        guard partial.count <= Self.maxLines else { throw .tooManyLines(Self.maxLines) }
        guard line.count == 3 || line[3] == UInt8(ascii: " ") else { return nil }
        let code = Int(line[0] - 48) * 100 + Int(line[1] - 48) * 10 + Int(line[2] - 48)
        defer { partial = [] }
        return Reply(code: code, lines: partial, enhancedStatus: Self.enhancedStatus(partial[0], code: code))
    }

    /// `X.Y.Z` as the first word of `text`, with X the reply code's first digit (RFC 2034 §4).
    static func enhancedStatus(_ text: String, code: Int) -> EnhancedStatusCode? {
        guard let word = statusWord(text), let status = EnhancedStatusCode(parsing: word),
              status.klass == code / 100 else { return nil }
        return status
    }

    /// The first word of `text` when it has the shape of an enhanced status code: digits in dot-separated
    /// parts of one to three (checked over the bytes: this runs for every reply the client reads).
    public static func statusWord(_ text: String) -> Substring? {
        let utf8 = text.utf8
        let start = utf8.firstIndex { $0 != UInt8(ascii: " ") } ?? utf8.endIndex
        let end = utf8[start...].firstIndex(of: UInt8(ascii: " ")) ?? utf8.endIndex
        var run = 0
        for byte in utf8[start..<end] {
            if byte == UInt8(ascii: ".") {
                guard (1...3).contains(run) else { return nil }
                run = 0
            } else if (48...57).contains(byte) {
                run += 1
            } else {
                return nil
            }
        }
        guard (1...3).contains(run) else { return nil }
        return text[start..<end]
    }

    /// Bytes for an error message: control characters and non-ASCII as `?`.
    static func printable(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
