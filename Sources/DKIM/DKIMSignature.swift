import Foundation

// RFC 6376 §3.5, the DKIM-Signature header field. Required tags: v, a, b, bh, d, h, s. Optional: c, i, l,
// q, t, x (z= is accepted and ignored). Validation beyond syntax (§6.1.1): v=1, i= within d=, h= includes
// From, x >= t.

/// `a=`: the signing algorithm (RFC 6376 §3.3, RFC 8463 §3). rsa-sha1 parses but is refused (RFC 8301 §3.1).
public enum DKIMAlgorithm: String, Sendable, Hashable, CaseIterable {
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"

    /// The `k=` key type this algorithm needs.
    public var keyType: String {
        switch self {
        case .rsaSHA256: return "rsa"
        case .ed25519SHA256: return "ed25519"
        }
    }
}

/// `c=`: one half of header/body canonicalization (RFC 6376 §3.4).
public enum DKIMCanonicalization: String, Sendable, Hashable, CaseIterable {
    case simple
    case relaxed
}

/// Why a DKIM-Signature field is unusable (all lead to `permerror`).
public enum DKIMSignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    case tagList(DKIMTagListError)
    case missingTag(String)
    case unsupportedVersion(String)
    case unsupportedAlgorithm(String)
    case unsupportedCanonicalization(String)
    case unsupportedQueryMethod(String)
    case invalidBase64(tag: String)
    case invalidDomain(String)
    case invalidSelector(String)
    case invalidIdentity(String)
    case identityNotInDomain(identity: String, domain: String)
    case invalidHeaderList(String)
    case fromNotSigned
    case invalidNumber(tag: String, value: String)
    case expiresBeforeTimestamp

    public var description: String {
        switch self {
        case .tagList(let e): return "malformed signature: \(e)"
        case .missingTag(let t): return "signature lacks required tag \(t)="
        case .unsupportedVersion(let v): return "unsupported signature version v=\(v)"
        case .unsupportedAlgorithm(let a): return "unsupported algorithm a=\(a)"
        case .unsupportedCanonicalization(let c): return "unsupported canonicalization c=\(c)"
        case .unsupportedQueryMethod(let q): return "unsupported query method q=\(q)"
        case .invalidBase64(let t): return "invalid base64 in \(t)="
        case .invalidDomain(let d): return "invalid domain d=\(d)"
        case .invalidSelector(let s): return "invalid selector s=\(s)"
        case .invalidIdentity(let i): return "invalid identity i=\(i)"
        case .identityNotInDomain(let i, let d): return "i=\(i) is not within d=\(d)"
        case .invalidHeaderList(let h): return "invalid header list h=\(h)"
        case .fromNotSigned: return "From is not signed (h= lacks from)"
        case .invalidNumber(let t, let v): return "invalid number \(t)=\(v)"
        case .expiresBeforeTimestamp: return "x= is before t="
        }
    }
}

/// A parsed, validated DKIM-Signature.
public struct DKIMSignature: Sendable, Hashable {
    public var algorithm: DKIMAlgorithm
    public var signature: [UInt8]              // b=
    public var bodyHash: [UInt8]               // bh=
    public var headerCanonicalization: DKIMCanonicalization
    public var bodyCanonicalization: DKIMCanonicalization
    public var domain: String                  // d=
    public var signedHeaders: [String]         // h=, as written (compare case-insensitively)
    public var identity: String?               // i=
    public var bodyLength: Int64?              // l=
    public var selector: String                // s=
    public var timestamp: Int64?               // t=
    public var expiration: Int64?              // x=

    /// The agent or user identifier: i= or "@" + d= (§3.5).
    public var effectiveIdentity: String { identity ?? "@" + domain }

    /// Where the key lives: `<s>._domainkey.<d>` (§3.6.2.1).
    public var keyName: String { "\(selector)._domainkey.\(domain)" }

    /// Parses the value of a DKIM-Signature header field (everything after the colon).
    public static func parse<Bytes: Collection>(_ value: Bytes) throws(DKIMSignatureError) -> DKIMSignature
    where Bytes.Element == UInt8 {
        let list: DKIMTagList
        do { list = try DKIMTagList.parse(value) } catch { throw .tagList(error) }
        return try parse(list)
    }

    public static func parse(_ list: DKIMTagList) throws(DKIMSignatureError) -> DKIMSignature {
        func required(_ name: String) throws(DKIMSignatureError) -> String {
            guard let v = list[name] else { throw .missingTag(name) }
            return v
        }
        // Check all required tags first, so "v=1" alone reports what is missing.
        for name in ["v", "a", "b", "bh", "d", "h", "s"] where list[name] == nil { throw .missingTag(name) }

        let version = try required("v")
        guard version == "1" else { throw .unsupportedVersion(version) }

        let a = try required("a")
        guard let algorithm = DKIMAlgorithm(rawValue: a.lowercased()) else { throw .unsupportedAlgorithm(a) }

        guard let b = decodeBase64(try required("b")), !b.isEmpty else { throw .invalidBase64(tag: "b") }
        guard let bh = decodeBase64(try required("bh")), !bh.isEmpty else { throw .invalidBase64(tag: "bh") }

        var hc = DKIMCanonicalization.simple, bc = DKIMCanonicalization.simple
        if let c = list["c"] {
            let parts = c.lowercased().split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2, let h = DKIMCanonicalization(rawValue: String(parts[0])) else {
                throw .unsupportedCanonicalization(c)
            }
            hc = h
            if parts.count == 2 {
                guard let bb = DKIMCanonicalization(rawValue: String(parts[1])) else {
                    throw .unsupportedCanonicalization(c)
                }
                bc = bb
            }
        }

        let d = try required("d")
        guard isValidDomainName(d) else { throw .invalidDomain(d) }
        let s = try required("s")
        guard isValidDomainName(s) else { throw .invalidSelector(s) }

        let hRaw = try required("h")
        let headers = removingWhitespace(hRaw).split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard !headers.isEmpty, headers.allSatisfy({ isFieldName($0) }) else { throw .invalidHeaderList(hRaw) }
        guard headers.contains(where: { $0.lowercased() == "from" }) else { throw .fromNotSigned }

        var identity: String?
        if let i = list["i"] {
            guard let at = i.lastIndex(of: "@") else { throw .invalidIdentity(i) }
            let idDomain = String(i[i.index(after: at)...])
            guard isValidDomainName(idDomain) else { throw .invalidIdentity(i) }
            guard isSameOrSubdomain(idDomain, of: d) else { throw .identityNotInDomain(identity: i, domain: d) }
            identity = i
        }

        if let q = list["q"] {
            let methods = removingWhitespace(q).lowercased().split(separator: ":")
            guard methods.contains(where: { $0 == "dns/txt" || $0 == "dns" }) else { throw .unsupportedQueryMethod(q) }
        }

        let l = try number(list, "l", maxDigits: DKIMLimits.maxLengthDigits)
        let t = try number(list, "t", maxDigits: DKIMLimits.maxTimestampDigits)
        let x = try number(list, "x", maxDigits: DKIMLimits.maxTimestampDigits)
        if let t, let x, x < t { throw .expiresBeforeTimestamp }

        return DKIMSignature(
            algorithm: algorithm, signature: b, bodyHash: bh,
            headerCanonicalization: hc, bodyCanonicalization: bc,
            domain: d, signedHeaders: headers, identity: identity, bodyLength: l,
            selector: s, timestamp: t, expiration: x)
    }

    private static func number(_ list: DKIMTagList, _ tag: String, maxDigits: Int) throws(DKIMSignatureError) -> Int64? {
        guard let raw = list[tag] else { return nil }
        let v = removingWhitespace(raw)
        guard !v.isEmpty, v.utf8.count <= maxDigits, v.utf8.allSatisfy(isDigit), let n = Int64(v) else {
            throw .invalidNumber(tag: tag, value: raw)
        }
        return n
    }
}

// MARK: - Shared syntax helpers

/// Base64 with FWS removed (§3.5 b=, bh=; §3.6.1 p=). nil when invalid.
func decodeBase64(_ value: String) -> [UInt8]? {
    let compact = removingWhitespace(value)
    if compact.isEmpty { return [] }
    guard let data = Data(base64Encoded: compact) else { return nil }
    return [UInt8](data)
}

/// RFC 6376 §3.5 `domain-name = sub-domain 1*("." sub-domain)` (RFC 5321), relaxed to allow a single label
/// (selectors), underscores (seen in selectors) and UTF-8 U-labels. No empty labels, no trailing dot.
func isValidDomainName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard !bytes.isEmpty, bytes.count <= 253 else { return false }
    for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
        guard !label.isEmpty, label.count <= 63 else { return false }
        guard label.allSatisfy({ isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 >= 0x80 })
        else { return false }
        if label.first == UInt8(ascii: "-") || label.last == UInt8(ascii: "-") { return false }
    }
    return true
}

/// RFC 5322 §3.6.8 field-name: printable US-ASCII except colon.
func isFieldName(_ name: String) -> Bool {
    !name.isEmpty && name.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: ":") }
}

func isSameOrSubdomain(_ sub: String, of domain: String) -> Bool {
    let s = sub.lowercased(), d = domain.lowercased()
    return s == d || s.hasSuffix("." + d)
}
