import NIOCore
import SMTPProtocol

/// The header fields of a message that change how it travels: `TLS-Required` (RFC 8689 §3) and
/// `TLS-Report-Domain` (RFC 8460 §5.3). Pure: reads the header section only, unfolding continuation lines.
public struct TLSHeaderFields: Sendable, Hashable {
    /// `TLS-Required: No` (the only value RFC 8689 §3 defines; case-insensitive).
    public var tlsRequiredNo = false
    /// The message is a TLS-RPT report.
    public var isTLSReport = false

    public init(_ message: ByteBuffer) {
        // Over the bytes, a line at a time (`memchr`); only the two fields of interest become strings.
        // (Every message's header goes through here before delivery: splitting it into strings first cost
        // about 3% of the server's instructions.)
        var current: Field?
        var value: [UInt8] = []
        message.withUnsafeReadableBytes { bytes in
            var lineStart = 0
            while lineStart < bytes.count {
                let lf = ByteScan.first(10, in: bytes, from: lineStart)
                var end = lf
                if end > lineStart && bytes[end - 1] == 13 { end -= 1 }
                if end == lineStart { break }                              // the empty line ends the header
                let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<end])
                if line[0] == 32 || line[0] == 9 {
                    if current != nil { value.append(contentsOf: line) }   // a continuation line
                } else {
                    if let field = current { apply(field, value) }
                    (current, value) = Self.field(line)
                }
                lineStart = lf + 1
            }
        }
        if let field = current { apply(field, value) }
    }

    private enum Field { case tlsRequired, tlsReportDomain }

    private mutating func apply(_ field: Field, _ value: [UInt8]) {
        switch field {
        case .tlsRequired:
            let text = String(decoding: value, as: UTF8.self).trimmingCharacters(in: " \t\r\n").lowercased()
            if text == "no" { tlsRequiredNo = true }
        case .tlsReportDomain:
            isTLSReport = true
        }
    }

    /// The field a header line starts, when it is one of ours, and the bytes after its colon.
    private static func field(_ line: UnsafeRawBufferPointer) -> (Field?, [UInt8]) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return (nil, []) }
        var nameEnd = colon
        while nameEnd > 0 && (line[nameEnd - 1] == 32 || line[nameEnd - 1] == 9) { nameEnd -= 1 }
        let name = UnsafeRawBufferPointer(rebasing: line[0..<nameEnd])
        let field: Field
        if equalsIgnoringCase(name, "tls-required") { field = .tlsRequired }
        else if equalsIgnoringCase(name, "tls-report-domain") { field = .tlsReportDomain }
        else { return (nil, []) }
        return (field, Array(line[(colon + 1)...]))
    }

    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            zip(bytes, expected).allSatisfy { ((65...90).contains($0) ? $0 | 0x20 : $0) == $1 }
        }
    }
}
