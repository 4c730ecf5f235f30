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
        let clean = { (byte: UInt8) in
            byte > 32 && byte < 127 && byte != UInt8(ascii: "(") && byte != UInt8(ascii: ")")
                && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: ";")
        }
        if !s.isEmpty, s.utf8.count <= 255, s.utf8.allSatisfy(clean) { return s }   // the usual case
        let allowed = s.unicodeScalars.filter { $0.value > 32 && $0.value < 127 && !"()\\;".unicodeScalars.contains($0) }
        var out = String(String.UnicodeScalarView(allowed.prefix(255)))
        if out.isEmpty { out = "unknown" }
        return out
    }
}

/// RFC 5322 §3.3 date-time: `Mon, 30 Nov 2026 09:00:00 +0000`.
public enum RFC5322Date {
    static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]   // 1970-01-01 was a Thursday
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Sat, 5 Dec 2026 21:12:03 +0000` (RFC 5322 §3.3), in UTC. Plain arithmetic on the seconds (the civil
    /// calendar from a day count): a `Calendar` cost 11,000 instructions for every message's Received field.
    public static func format(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let (dayNumber, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (day, second) = secondOfDay < 0 ? (dayNumber - 1, secondOfDay + 86_400) : (dayNumber, secondOfDay)
        let (year, month, dayOfMonth) = civil(fromDays: day)
        let weekday = ((day % 7) + 7) % 7
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[weekday]), \(dayOfMonth) \(months[month - 1]) \(year) "
            + "\(two(second / 3600)):\(two(second / 60 % 60)):\(two(second % 60)) +0000"
    }

    /// Year, month (1–12) and day (1–31) of the proleptic Gregorian calendar, `days` after 1970-01-01.
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468                      // days since 0000-03-01
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)   // from March 1st
        let shiftedMonth = (5 * dayOfYear + 2) / 153                                      // March = 0
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
