/// The RDATA of a resource record, typed for the types mail needs (RFC 1035 §3.3, RFC 3596, RFC 6698);
/// anything else is kept as raw bytes (RFC 3597).
public enum DNSRecordData: Sendable, Hashable {
    case a(IPAddress)
    case aaaa(IPAddress)
    /// RFC 1035 §3.3.9. A null MX (RFC 7505) is preference 0 and exchange `.`.
    case mx(preference: UInt16, exchange: DNSName)
    /// RFC 1035 §3.3.14: one or more character-strings, kept separately (each at most 255 bytes).
    case txt([[UInt8]])
    case ptr(DNSName)
    case cname(DNSName)
    case ns(DNSName)
    case soa(DNSSOA)
    /// RFC 6698 §2.1.
    case tlsa(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8])
    case unknown(type: DNSRecordType, data: [UInt8])

    /// The record type this data belongs to.
    public var type: DNSRecordType {
        switch self {
        case .a: return .a
        case .aaaa: return .aaaa
        case .mx: return .mx
        case .txt: return .txt
        case .ptr: return .ptr
        case .cname: return .cname
        case .ns: return .ns
        case .soa: return .soa
        case .tlsa: return .tlsa
        case .unknown(let type, _): return type
        }
    }

    /// For TXT: the character-strings joined without separator (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    public var joinedText: String? {
        guard case .txt(let strings) = self else { return nil }
        return String(decoding: strings.joined(), as: UTF8.self)
    }

    /// Zone-file presentation of the data (RFC 1035 §5.1; RFC 3597 §5 for unknown types).
    public var presentation: String {
        switch self {
        case .a(let ip), .aaaa(let ip): return ip.description
        case .mx(let preference, let exchange): return "\(preference) \(exchange.zoneDescription)"
        case .txt(let strings): return strings.map(Self.quoted).joined(separator: " ")
        case .ptr(let name), .cname(let name), .ns(let name): return name.zoneDescription
        case .soa(let soa):
            return "\(soa.mname.zoneDescription) \(soa.rname.zoneDescription) \(soa.serial) \(soa.refresh) "
                + "\(soa.retry) \(soa.expire) \(soa.minimum)"
        case .tlsa(let usage, let selector, let matchingType, let data):
            return "\(usage) \(selector) \(matchingType) \(Self.hex(data))"
        case .unknown(_, let data):
            return "\\# \(data.count)" + (data.isEmpty ? "" : " \(Self.hex(data))")
        }
    }

    static func hex(_ data: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in data { out += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return String(decoding: out, as: UTF8.self)
    }

    /// A character-string in quotes, with `"` and `\` escaped and non-printable bytes as `\DDD`.
    static func quoted(_ bytes: [UInt8]) -> String {
        var out = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += "\\" + String(UnicodeScalar(byte))
            case 0x20...0x7E: out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let digits = String(byte)
                out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            }
        }
        return out + "\""
    }
}

/// SOA RDATA (RFC 1035 §3.3.13). `minimum` bounds negative caching (RFC 2308 §4).
public struct DNSSOA: Sendable, Hashable {
    public var mname: DNSName
    public var rname: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(mname: DNSName, rname: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32,
                expire: UInt32, minimum: UInt32) {
        self.mname = mname; self.rname = rname; self.serial = serial; self.refresh = refresh
        self.retry = retry; self.expire = expire; self.minimum = minimum
    }
}

/// A resource record (RFC 1035 §4.1.3).
public struct DNSResourceRecord: Sendable, Hashable, CustomStringConvertible {
    public var name: DNSName
    public var recordClass: DNSClass
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, recordClass: DNSClass = .internet, ttl: UInt32, data: DNSRecordData) {
        self.name = name; self.recordClass = recordClass; self.ttl = ttl; self.data = data
    }

    public var type: DNSRecordType { data.type }

    /// Zone-file line: `name. TTL IN TYPE data`.
    public var description: String {
        "\(name.zoneDescription)\t\(ttl)\t\(recordClass)\t\(type)\t\(data.presentation)"
    }
}
