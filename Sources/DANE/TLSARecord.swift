import DNSCore

/// One TLSA record (RFC 6698 §2.1), as the SMTP client uses it (RFC 7672 §3.1).
public struct TLSARecord: Sendable, Hashable, CustomStringConvertible {
    /// Certificate usage (RFC 7218 names).
    public enum Usage: UInt8, Sendable {
        case pkixTA = 0, pkixEE = 1, daneTA = 2, daneEE = 3
    }

    public var usage: UInt8
    public var selector: UInt8
    public var matchingType: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    /// The TLSA record in `data`, nil for any other type.
    public init?(_ data: DNSRecordData) {
        guard case .tlsa(let usage, let selector, let matchingType, let bytes) = data else { return nil }
        self.init(usage: usage, selector: selector, matchingType: matchingType, data: bytes)
    }

    /// Usable for SMTP (RFC 7672 §3.1.3, RFC 7671 §4): DANE-TA or DANE-EE, a known selector and matching
    /// type, and a digest of the right length. PKIX-TA/PKIX-EE, unknown values and malformed digests are
    /// "unusable": ignored, but their presence still makes TLS mandatory (§2.2).
    public var isUsable: Bool {
        guard usage == Usage.daneTA.rawValue || usage == Usage.daneEE.rawValue, selector <= 1 else { return false }
        switch matchingType {
        case 0: return !data.isEmpty
        case 1: return data.count == 32
        case 2: return data.count == 64
        default: return false
        }
    }

    /// Why `isUsable` is false, in words; nil when it is usable.
    public var unusableReason: String? {
        if usage == Usage.pkixTA.rawValue || usage == Usage.pkixEE.rawValue {
            return "usage \(usage) (PKIX-\(usage == 0 ? "TA" : "EE")) is not used for SMTP (RFC 7672 §3.1.3)"
        }
        if usage > 3 { return "unknown usage \(usage)" }
        if selector > 1 { return "unknown selector \(selector)" }
        if matchingType > 2 { return "unknown matching type \(matchingType)" }
        return isUsable ? nil : "association data of \(data.count) bytes does not fit matching type \(matchingType)"
    }

    /// `3 1 1`: the three parameters, as operators write them.
    public var parameters: String { "\(usage) \(selector) \(matchingType)" }

    /// Zone-file form: `3 1 1 <hex>`.
    public var description: String { "\(parameters) \(Hex.encode(data))" }
}
