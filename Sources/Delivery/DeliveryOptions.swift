import NIOCore

/// What one message asks of its remote delivery, beyond the envelope.
///
/// - `requireTLS`: the message was accepted with `MAIL FROM:<…> REQUIRETLS` (RFC 8689 §4.2.1): every MX
///   host must offer STARTTLS, present a certificate verified for its name, and advertise REQUIRETLS after
///   TLS; MAIL carries `REQUIRETLS` on. A host that falls short is skipped; when no host qualifies the
///   recipients fail for good with `5.7.30` (§5), they are not retried forever.
/// - `tlsOptional`: the message carries `TLS-Required: No` (RFC 8689 §4.2.2) and no REQUIRETLS: MTA-STS,
///   DANE and our own downgrade protection do not stop it; STARTTLS is still used whenever offered.
/// - `tlsReport`: the message is a TLS-RPT report (it carries `TLS-Report-Domain`). RFC 8460 §5.3: it is
///   delivered despite TLS failures and its session is left out of the next report.
public struct DeliveryOptions: Sendable, Hashable {
    public var requireTLS: Bool
    public var tlsOptional: Bool
    public var tlsReport: Bool
    /// The TLS-RPT policy of this delivery, set by the remote courier; nil counts nothing.
    var reportPolicy: TLSReportPolicy?

    public init(requireTLS: Bool = false, tlsOptional: Bool = false, tlsReport: Bool = false) {
        self.requireTLS = requireTLS
        self.tlsOptional = tlsOptional && !requireTLS   // §4.1: REQUIRETLS wins over the header field
        self.tlsReport = tlsReport
    }

    /// The options of a queued message from its envelope flag and its header fields.
    public init(requireTLS: Bool, message: ByteBuffer) {
        let fields = TLSHeaderFields(message)
        self.init(requireTLS: requireTLS, tlsOptional: fields.tlsRequiredNo || fields.isTLSReport,
                  tlsReport: fields.isTLSReport)
    }
}

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
