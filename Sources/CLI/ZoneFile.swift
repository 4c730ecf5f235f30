import DKIM
import DNSCore
import Foundation

// Zone-file output shared by `apus dkim dns` and `apus dns records` (DESIGN.md §4 "Tool output").
//
// A record is one line of a BIND master file (RFC 1035 §5.1): `name. TTL IN TYPE rdata`, with the owner name
// written absolute (final dot), so a line pastes into any zone. A TXT value is written as one or more quoted
// character-strings of at most 255 bytes each (RFC 1035 §3.3.14); receivers join them without a separator
// (RFC 7208 §3.3 for SPF, RFC 6376 §3.6.2.2 for DKIM). Comments start with `;`.

/// One DNS record to publish.
struct ZoneRecord: Sendable, Equatable {
    enum RecordData: Sendable, Equatable {
        case mx(preference: Int, exchange: String)
        case address(IPAddress)
        /// The character-strings of a TXT record, each at most `ZoneFile.maxStringBytes` bytes.
        case txt([String])
    }

    /// The owner name, without the final dot.
    var name: String
    var ttl: Int
    var data: RecordData

    init(name: String, ttl: Int = ZoneFile.defaultTTL, data: RecordData) {
        self.name = name
        self.ttl = ttl
        self.data = data
    }

    /// A TXT record whose value is split into strings of at most 255 bytes.
    static func txt(_ name: String, _ value: String, ttl: Int = ZoneFile.defaultTTL) -> ZoneRecord {
        ZoneRecord(name: name, ttl: ttl, data: .txt(ZoneFile.characterStrings(value)))
    }

    /// A DKIM key record, split as `DKIMSigningKey.txtStrings` does: `"v=DKIM1; k=rsa; " "p=…" "…"`.
    static func dkim(_ key: DKIMSigningKey, ttl: Int = ZoneFile.defaultTTL) -> ZoneRecord {
        ZoneRecord(name: key.recordName, ttl: ttl, data: .txt(key.txtStrings))
    }

    var type: String {
        switch data {
        case .mx: return "MX"
        case .address(let ip): return ip.isIPv4 ? "A" : "AAAA"
        case .txt: return "TXT"
        }
    }

    /// The zone-file line: `example.com. 3600 IN MX 10 mx.example.com.`
    var zoneLine: String {
        let rdata: String
        switch data {
        case .mx(let preference, let exchange): rdata = "\(preference) \(exchange)."
        case .address(let ip): rdata = ip.description
        case .txt(let strings): rdata = strings.map(ZoneFile.quoted).joined(separator: " ")
        }
        return "\(name). \(ttl) IN \(type) \(rdata)"
    }

    /// The value as a DNS provider's web form wants it: TXT strings joined into one, MX without the dot.
    var plainValue: String {
        switch data {
        case .mx(let preference, let exchange): return "\(preference) \(exchange)"
        case .address(let ip): return ip.description
        case .txt(let strings): return strings.joined()
        }
    }
}

enum ZoneFile {
    /// One hour: short enough to correct a mistake the same day, long enough not to matter for load.
    static let defaultTTL = 3600
    /// RFC 1035 §3.3: a character-string is a length byte and at most 255 bytes.
    static let maxStringBytes = 255

    /// `value` cut into pieces of at most 255 bytes, never inside a UTF-8 sequence. An empty value is one
    /// empty string (a TXT record has at least one).
    static func characterStrings(_ value: String) -> [String] {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty else { return [""] }
        var out: [String] = []
        var start = 0
        while start < bytes.count {
            var end = min(start + maxStringBytes, bytes.count)
            // Back up over continuation bytes (10xxxxxx) so a multi-byte character stays whole.
            while end < bytes.count && end > start + 1 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
            out.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = end
        }
        return out
    }

    /// A character-string in master-file syntax (RFC 1035 §5.1): quoted, with `"` and `\` escaped and bytes
    /// outside printable ASCII as `\DDD`.
    static func quoted(_ string: String) -> String {
        var out = "\""
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out += "\\" + String(UnicodeScalar(byte))
            case 0x20...0x7E:
                out.append(Character(UnicodeScalar(byte)))
            default:
                let digits = String(byte)
                out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            }
        }
        return out + "\""
    }

    /// Zone-file comment lines: each line of `text` prefixed with `; ` (an empty line gets a bare `;`).
    static func comment(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? ";" : "; \($0)" }
            .joined(separator: "\n")
    }

    /// Rows of (name, type, value) as a table under a `NAME TYPE VALUE` header, columns padded with spaces.
    static func table(_ rows: [(name: String, type: String, value: String)]) -> String {
        let all = [(name: "NAME", type: "TYPE", value: "VALUE")] + rows
        let nameWidth = all.map(\.name.count).max() ?? 0
        let typeWidth = all.map(\.type.count).max() ?? 0
        return all.map { row in
            row.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                + row.type.padding(toLength: typeWidth, withPad: " ", startingAt: 0) + "  " + row.value
        }.joined(separator: "\n")
    }
}
