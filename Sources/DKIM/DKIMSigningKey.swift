import Crypto
import CryptoExtras
import Foundation

// A private key with the domain and selector it signs for. Files are PKCS#8 PEM (DESIGN.md §3:
// `domains/<d>/dkim/<selector>.pem`); PKCS#1 "RSA PRIVATE KEY" PEM is read too. RSA keys under 1024 bits
// are refused (RFC 8301 §3.2); 1024-bit keys sign but are `isWeak` (the server warns, `apus check` advises
// rotation); new keys are 2048 bits or more.

/// The algorithms `apus dkim keygen` offers.
public enum DKIMKeyAlgorithm: String, Sendable, Hashable, CaseIterable {
    case ed25519
    case rsa2048
    case rsa3072
}

public enum DKIMSigningKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadablePEM(String)
    case rsaKeyTooShort(bits: Int)
    case invalidDomain(String)
    case invalidSelector(String)

    public var description: String {
        switch self {
        case .unreadablePEM(let why): return "not an RSA or Ed25519 private key in PEM: \(why)"
        case .rsaKeyTooShort(let bits): return "RSA key has \(bits) bits; DKIM signing needs at least \(DKIMLimits.minimumSigningRSABits)"
        case .invalidDomain(let d): return "invalid domain \(d)"
        case .invalidSelector(let s): return "invalid selector \(s)"
        }
    }
}

public struct DKIMSigningKey: Sendable {
    enum Backing: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    public let domain: String
    public let selector: String
    let backing: Backing

    init(backing: Backing, domain: String, selector: String) throws(DKIMSigningKeyError) {
        guard isValidDomainName(domain) else { throw .invalidDomain(domain) }
        guard isValidDomainName(selector) else { throw .invalidSelector(selector) }
        self.backing = backing
        self.domain = domain
        self.selector = selector
    }

    /// Reads a PEM private key and detects its type: PKCS#8 RSA or Ed25519, or PKCS#1 RSA.
    public init(pem: String, domain: String, selector: String) throws(DKIMSigningKeyError) {
        if pem.contains("BEGIN PRIVATE KEY"), let ed = try? Curve25519.Signing.PrivateKey(pemRepresentation: pem) {
            try self.init(backing: .ed25519(ed), domain: domain, selector: selector)
            return
        }
        let rsa: _RSA.Signing.PrivateKey
        do {
            rsa = try _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem)
        } catch {
            throw .unreadablePEM("\(error)")
        }
        guard rsa.keySizeInBits >= DKIMLimits.minimumSigningRSABits else { throw .rsaKeyTooShort(bits: rsa.keySizeInBits) }
        try self.init(backing: .rsa(rsa), domain: domain, selector: selector)
    }

    /// For test vectors only: RSA keys of 1024 bits and more (RFC 6376 / RFC 8463 examples use 1024).
    package init(insecureRSAPEM pem: String, domain: String, selector: String) throws {
        try self.init(backing: .rsa(try _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem)), domain: domain, selector: selector)
    }

    /// An Ed25519 key from its 32-byte RFC 8032 seed.
    public init(ed25519Seed seed: [UInt8], domain: String, selector: String) throws {
        try self.init(backing: .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: seed)), domain: domain, selector: selector)
    }

    /// A new key. RSA generation takes a noticeable fraction of a second.
    public static func generate(_ algorithm: DKIMKeyAlgorithm, domain: String, selector: String) throws -> DKIMSigningKey {
        switch algorithm {
        case .ed25519:
            return try DKIMSigningKey(backing: .ed25519(Curve25519.Signing.PrivateKey()), domain: domain, selector: selector)
        case .rsa2048:
            return try DKIMSigningKey(backing: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048)), domain: domain, selector: selector)
        case .rsa3072:
            return try DKIMSigningKey(backing: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits3072)), domain: domain, selector: selector)
        }
    }

    /// The RSA modulus size in bits; nil for Ed25519.
    public var rsaBits: Int? {
        if case .rsa(let k) = backing { return k.keySizeInBits }
        return nil
    }

    /// An RSA key under `DKIMLimits.recommendedSigningRSABits` (RFC 8301 §3.2 SHOULD): signs, but should be rotated.
    public var isWeak: Bool { (rsaBits ?? Int.max) < DKIMLimits.recommendedSigningRSABits }

    public var algorithm: DKIMAlgorithm {
        switch backing {
        case .rsa: return .rsaSHA256
        case .ed25519: return .ed25519SHA256
        }
    }

    /// The PKCS#8 PEM for the key file.
    public var pkcs8PEM: String {
        switch backing {
        case .rsa(let k): return k.pkcs8PEMRepresentation
        case .ed25519(let k): return k.pemRepresentation
        }
    }

    /// `p=`: SPKI DER for RSA, the raw 32 bytes for Ed25519 (RFC 8463 §4.2), in base64.
    public var publicKeyBase64: String {
        switch backing {
        case .rsa(let k): return k.publicKey.derRepresentation.base64EncodedString()
        case .ed25519(let k): return k.publicKey.rawRepresentation.base64EncodedString()
        }
    }

    /// The owner name of the key record, without the trailing dot.
    public var recordName: String { "\(selector)._domainkey.\(domain)" }

    /// The key record: `v=DKIM1; k=rsa; p=…`.
    public var txtRecord: String { "v=DKIM1; k=\(algorithm.keyType); p=\(publicKeyBase64)" }

    /// The key record as TXT character-strings of at most 255 bytes: `v=DKIM1; k=rsa; ` then `p=…` in chunks.
    public var txtStrings: [String] {
        let head = "v=DKIM1; k=\(algorithm.keyType); "
        let p = Array(("p=" + publicKeyBase64).utf8)
        var out = [head]
        var i = 0
        while i < p.count {
            let end = min(i + DKIMLimits.maxTXTStringBytes, p.count)
            out.append(String(decoding: p[i..<end], as: UTF8.self))
            i = end
        }
        return out
    }

    /// A BIND zone-file line: `<selector>._domainkey.<domain>. 3600 IN TXT "v=DKIM1; k=rsa; " "p=…"`.
    public func zoneFileLine(ttl: Int = 3600) -> String {
        "\(recordName). \(ttl) IN TXT " + txtStrings.map { "\"\($0)\"" }.joined(separator: " ")
    }

    /// Signs SHA-256(`data`): RSASSA-PKCS1-v1_5 (RFC 6376 §3.3.1) or Ed25519 over the digest (RFC 8463 §3).
    func sign(_ data: [UInt8]) throws -> [UInt8] {
        let digest = SHA256.hash(data: data)
        switch backing {
        case .rsa(let k):
            return [UInt8](try k.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
        case .ed25519(let k):
            return [UInt8](try k.signature(for: Data(digest)))
        }
    }
}
