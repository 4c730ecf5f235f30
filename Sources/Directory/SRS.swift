import Crypto
import Foundation

/// The Sender Rewriting Scheme, in the layout of Shevek's draft and libsrs2, so that mail we forward passes the
/// receiver's SPF check and its bounces come back to us and on to the original sender.
///
/// ```
/// SRS0=HHHH=TT=orig-domain=orig-local@alias-domain           we forward mail from orig-local@orig-domain
/// SRS1=HHHH=first-hop==HHHH=TT=orig-domain=orig-local@alias-domain   we forward an SRS0 address of first-hop
/// ```
/// `TT` is the day (days since 1970 modulo 1024) in two base32 characters; `HHHH` the first 4 base64 characters of
/// HMAC-SHA256 with our secret over the lowercased fields (SRS0: TT, domain, local; SRS1: first-hop, the rest),
/// each followed by a NUL byte so that no field's end can be moved. libsrs2 uses HMAC-SHA1 without separators: only
/// we decode our addresses, so the stronger hash costs nothing. Hashes and timestamps are compared without regard
/// to case, as libsrs2 does, because some servers lowercase local parts. Decoding refuses a wrong hash, and an SRS0
/// timestamp older than `maxAgeDays` or in the future.
public struct SRS: Sendable {
    /// Days an SRS0 address stays valid: bounces come within days, and the draft suggests 21 (libsrs2's default).
    public static let defaultMaxAgeDays = 21
    /// Characters of the base64 hash (libsrs2's default; `hash` makes exactly four).
    static let hashLength = 4
    /// Timestamps count days modulo 1024 (two base32 characters).
    static let timeSlots = 1024
    static let base32: [Character] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    /// After `SRS0`/`SRS1` libsrs2 accepts any of these as the first separator.
    static let separators: Set<Character> = ["=", "+", "-"]

    /// HMAC-SHA256 keyed with the secret and nothing hashed yet: each hash starts from a copy of it instead
    /// of deriving the inner and outer keys again (a third of the cost of an SRS address).
    let keyed: HMAC<SHA256>
    public let maxAgeDays: Int

    public init(secret: [UInt8], maxAgeDays: Int = SRS.defaultMaxAgeDays) {
        precondition(!secret.isEmpty, "SRS needs a secret")
        self.keyed = HMAC<SHA256>(key: SymmetricKey(data: secret))
        self.maxAgeDays = maxAgeDays
    }

    /// Whether a local part is an SRS address (`SRS0=…` or `SRS1=…`, any case).
    public static func isSRS(localPart: String) -> Bool {
        kind(localPart) != nil
    }

    /// The envelope sender to use when forwarding mail from `localPart@domain` out of `aliasDomain`.
    public func forward(localPart: String, domain: String, aliasDomain: String, now: Date = Date()) -> String {
        switch Self.kind(localPart) {
        case "0":
            // SRS0=…@first-hop → SRS1=HHHH=first-hop==…@us: the first hop stays the one that can decode it.
            let user = String(localPart.dropFirst(4))
            return "SRS1=\(hash([domain, user]))=\(domain)=\(user)@\(aliasDomain)"
        case "1":
            // SRS1=HHHH=first-hop==…@previous → a new hash, same first hop.
            let parts = localPart.dropFirst(5).split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3, !parts[1].isEmpty {
                let host = String(parts[1]), user = String(parts[2])
                return "SRS1=\(hash([host, user]))=\(host)=\(user)@\(aliasDomain)"
            }
        default:
            break
        }
        let stamp = Self.timestamp(now)
        return "SRS0=\(hash([stamp, domain, localPart]))=\(stamp)=\(domain)=\(localPart)@\(aliasDomain)"
    }

    /// The address an SRS local part stands for: `orig-local@orig-domain` for SRS0, the first hop's SRS0 address
    /// for SRS1.
    public func reverse(localPart: String, now: Date = Date()) throws(SRSError) -> String {
        switch Self.kind(localPart) {
        case "0":
            let parts = localPart.dropFirst(5).split(separator: "=", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, !parts[2].isEmpty, !parts[3].isEmpty else { throw .malformed }
            let stamp = String(parts[1]), domain = String(parts[2]), local = String(parts[3])
            guard Self.equalIgnoringCase(String(parts[0]), hash([stamp, domain, local])) else { throw .badHash }
            guard let day = Self.decodeTimestamp(stamp) else { throw .malformed }
            var today = Self.day(now) % Self.timeSlots
            while today < day { today += Self.timeSlots }
            guard today - day <= maxAgeDays else { throw .expired }
            return "\(local)@\(domain)"
        case "1":
            let parts = localPart.dropFirst(5).split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[1].isEmpty, let first = parts[2].first, Self.separators.contains(first) else {
                throw .malformed
            }
            let host = String(parts[1]), user = String(parts[2])
            guard Self.equalIgnoringCase(String(parts[0]), hash([host, user])) else { throw .badHash }
            return "SRS0\(user)@\(host)"
        default:
            throw .notSRS
        }
    }

    /// "0", "1" or nil.
    static func kind(_ localPart: String) -> Character? {
        // Most local parts are not SRS: decided on the first byte, without making characters.
        guard let first = localPart.utf8.first, first | 0x20 == UInt8(ascii: "s") else { return nil }
        let chars = Array(localPart.prefix(5))
        guard chars.count == 5, chars[0] == "S" || chars[0] == "s", chars[1] == "R" || chars[1] == "r",
              chars[2] == "S" || chars[2] == "s", chars[3] == "0" || chars[3] == "1", separators.contains(chars[4]) else {
            return nil
        }
        return chars[3]
    }

    /// The first `hashLength` (4) base64 characters of the HMAC: those of its first three bytes. Fields are
    /// lowercased byte by byte when ASCII (nearly always), else as `String.lowercased()` does; all of it is
    /// hashed in one piece, and the four characters are made from the three bytes directly (`lowercased()`,
    /// an array per field and Foundation's base64 of the whole digest were 80% of an SRS address's cost).
    func hash(_ fields: [String]) -> String {
        var input: [UInt8] = []
        input.reserveCapacity(fields.reduce(0) { $0 + $1.utf8.count + 1 })
        for field in fields {
            if field.utf8.allSatisfy({ $0 < 0x80 }) {
                for byte in field.utf8 { input.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) }
            } else {
                input += field.lowercased().utf8
            }
            input.append(0)
        }
        var mac = keyed
        mac.update(data: input)
        return mac.finalize().withUnsafeBytes { digest in
            let (a, b, c) = (Int(digest[0]), Int(digest[1]), Int(digest[2]))
            let sextets = [a >> 2, (a & 0x03) << 4 | b >> 4, (b & 0x0F) << 2 | c >> 6, c & 0x3F]
            return String(decoding: sextets.map { Self.base64[$0] }, as: UTF8.self)
        }
    }

    static let base64 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func day(_ date: Date) -> Int { Int((date.timeIntervalSince1970 / 86_400).rounded(.down)) }

    static func timestamp(_ date: Date) -> String {
        let slot = day(date) % timeSlots
        return String([base32[slot >> 5], base32[slot & 31]])
    }

    static func decodeTimestamp(_ text: String) -> Int? {
        let chars = Array(text.uppercased())
        guard chars.count == 2, let high = base32.firstIndex(of: chars[0]), let low = base32.firstIndex(of: chars[1]) else {
            return nil
        }
        return high << 5 | low
    }

    static func equalIgnoringCase(_ a: String, _ b: String) -> Bool {
        let x = Array(a.lowercased().utf8), y = Array(b.lowercased().utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}

/// Why an SRS address was refused.
public enum SRSError: Error, Sendable, Equatable, CustomStringConvertible {
    case notSRS
    case malformed
    case badHash
    case expired

    public var description: String {
        switch self {
        case .notSRS: "not an SRS address"
        case .malformed: "malformed SRS address"
        case .badHash: "SRS address with a wrong hash (not made here, or altered)"
        case .expired: "SRS address has expired"
        }
    }
}
