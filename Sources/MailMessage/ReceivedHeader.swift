import Foundation

/// Trace headers (RFC 5321 §4.4, RFC 5322 §3.6.7).
///
/// ```
/// Received: from client.example (client.example [192.0.2.1])
///         by mx.example.com (Apus) with ESMTPS id 4b7f2c1e9a0d3f12
///         (TLSv1.3); Mon, 30 Nov 2026 09:00:00 +0000
/// ```
/// The recipients are never listed (a `for` clause would leak Bcc recipients).
public struct ReceivedHeader: Sendable {
    public var clientName: String
    public var clientAddress: String
    public var reverseName: String?
    public var hostname: String
    public var protocolName: String
    public var queueID: String
    public var tlsVersion: String?
    public var date: Date

    public init(clientName: String, clientAddress: String, reverseName: String? = nil, hostname: String,
                protocolName: String, queueID: String, tlsVersion: String?, date: Date) {
        self.clientName = clientName
        self.clientAddress = clientAddress
        self.reverseName = reverseName
        self.hostname = hostname
        self.protocolName = protocolName
        self.queueID = queueID
        self.tlsVersion = tlsVersion
        self.date = date
    }

    /// The folded header field, ending in CRLF.
    public var rendered: String {
        let from = Self.sanitize(clientName)
        let literal = clientAddress.contains(":") ? "IPv6:\(clientAddress)" : clientAddress
        var text = "Received: from \(from) (\(reverseName.map(Self.sanitize) ?? "unknown") [\(literal)])\r\n"
        text += "\tby \(hostname) (Apus) with \(protocolName) id \(queueID)"
        if let tlsVersion { text += "\r\n\t(\(tlsVersion))" }
        text += ";\r\n\t\(RFC5322Date.format(date))\r\n"
        return text
    }

    /// EHLO names come from the client: keep only characters that cannot break the header.
    static func sanitize(_ s: String) -> String {
        let allowed = s.unicodeScalars.filter { $0.value > 32 && $0.value < 127 && !"()\\;".unicodeScalars.contains($0) }
        var out = String(String.UnicodeScalarView(allowed.prefix(255)))
        if out.isEmpty { out = "unknown" }
        return out
    }
}

/// RFC 5322 §3.3 date-time: `Mon, 30 Nov 2026 09:00:00 +0000`.
public enum RFC5322Date {
    public static func format(_ date: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int?) -> String { let v = n ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        return "\(days[(c.weekday ?? 1) - 1]), \(c.day ?? 1) \(months[(c.month ?? 1) - 1]) \(c.year ?? 1970) "
            + "\(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }
}
