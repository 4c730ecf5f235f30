/// One entity of a MIME message body (RFC 2045 §2.4, RFC 2046 §5.1): a leaf with its header fields and encoded
/// body, or a multipart of other entities.
///
/// ```
/// Content-Type: multipart/mixed; boundary="=_apus_…_1"
///
/// --=_apus_…_1
/// Content-Type: text/plain; charset=utf-8        ← a leaf: fields, blank line, body (ending in CRLF)
///                                                 ← one more CRLF, so the body's own last CRLF survives
/// --=_apus_…_1                                      (RFC 2046 §5.1.1: the CRLF before `--` belongs to it)
/// …
/// --=_apus_…_1--
/// ```
/// Boundaries start with `=_`, which quoted-printable and base64 never produce and 7bit bodies are kept free
/// of (`TextBody`), so no part can contain its delimiter.
indirect enum MIMEEntity {
    case leaf(headers: [(name: String, value: String)], body: [UInt8])
    case multipart(subtype: String, parts: [MIMEEntity])

    /// The entity's header fields (folded), a blank line and its body.
    func render(seed: UInt64, depth: Int = 1) -> [UInt8] {
        switch self {
        case .leaf(let headers, let body):
            let fields = headers.map { HeaderField.render($0.name, $0.value) }.joined()
            return Array((fields + "\r\n").utf8) + body
        case .multipart(let subtype, let parts):
            let boundary = Self.boundary(seed: seed, depth: depth)
            var out = Array(HeaderField.render("Content-Type", "multipart/\(subtype); boundary=\"\(boundary)\"").utf8)
            out += Array("\r\n".utf8)
            for part in parts {
                out += Array("--\(boundary)\r\n".utf8)
                out += part.render(seed: seed, depth: depth + 1)
                out += Array("\r\n".utf8)
            }
            out += Array("--\(boundary)--\r\n".utf8)
            return out
        }
    }

    /// Unique per nesting level, so an inner part's delimiter is never the outer one's.
    static func boundary(seed: UInt64, depth: Int) -> String {
        let hex = String(seed, radix: 16)
        return "=_apus_\(String(repeating: "0", count: 16 - hex.count))\(hex)_\(depth)"
    }
}
