import NIOCore

/// The header fields of a message that change how it travels: `TLS-Required` (RFC 8689 §3) and
/// `TLS-Report-Domain` (RFC 8460 §5.3). Pure: reads the header section only, unfolding continuation lines.
public struct TLSHeaderFields: Sendable, Hashable {
    /// `TLS-Required: No` (the only value RFC 8689 §3 defines; case-insensitive).
    public var tlsRequiredNo = false
    /// The message is a TLS-RPT report.
    public var isTLSReport = false

    public init(_ message: ByteBuffer) {
        let bytes = message.readableBytesView
        var fields: [String] = []
        var lineStart = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            guard bytes[i] == 10 else { i += 1; continue }
            var end = i
            if end > lineStart && bytes[end - 1] == 13 { end -= 1 }
            if end == lineStart { break }                                  // the empty line ends the header
            let line = String(decoding: bytes[lineStart..<end], as: UTF8.self)
            if let first = line.first, first == " " || first == "\t", !fields.isEmpty {
                fields[fields.count - 1] += line
            } else {
                fields.append(line)
            }
            i += 1
            lineStart = i
        }
        for field in fields {
            guard let colon = field.firstIndex(of: ":") else { continue }
            let name = field[..<colon].trimmingCharacters(in: " \t").lowercased()
            let value = field[field.index(after: colon)...].trimmingCharacters(in: " \t\r\n").lowercased()
            if name == "tls-required" && value == "no" { tlsRequiredNo = true }
            if name == "tls-report-domain" { isTLSReport = true }
        }
    }
}
