import Crypto
import CryptoExtras
import Foundation

// The public key of a key record, ready to check signatures. RSA keys are SubjectPublicKeyInfo DER
// (RFC 6376 §3.6.1); a bare PKCS#1 RSAPublicKey, as some publishers use, is accepted as well (dkimpy and
// go-msgauth do the same). Ed25519 keys are the raw 32 bytes (RFC 8463 §4.2).

public enum DKIMPublicKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    case unsupportedKeyType(String)
    case malformedKey
    case keyTooShort(bits: Int)

    public var description: String {
        switch self {
        case .unsupportedKeyType(let k): return "unsupported key type k=\(k)"
        case .malformedKey: return "malformed public key"
        case .keyTooShort(let bits): return "key too short (\(bits) bits)"
        }
    }
}

enum DKIMPublicKey: Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)

    init(keyType: String, bytes: [UInt8], minimumRSABits: Int = DKIMLimits.minimumVerifyRSABits) throws(DKIMPublicKeyError) {
        switch keyType {
        case "rsa":
            guard let (spki, bits) = RSAKeyDER.spkiAndBits(bytes) else { throw .malformedKey }
            guard bits >= minimumRSABits else { throw .keyTooShort(bits: bits) }
            do { self = .rsa(try _RSA.Signing.PublicKey(unsafeDERRepresentation: spki)) } catch { throw .malformedKey }
        case "ed25519":
            do { self = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: bytes)) } catch { throw .malformedKey }
        default:
            throw .unsupportedKeyType(keyType)
        }
    }

    /// Checks `signature` over SHA-256(`data`) (RSA PKCS#1 v1.5; Ed25519 over the digest, RFC 8463 §3).
    func isValid(signature: [UInt8], for data: [UInt8]) -> Bool {
        let digest = SHA256.hash(data: data)
        switch self {
        case .rsa(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest,
                                        padding: .insecurePKCS1v1_5)
        case .ed25519(let key):
            return key.isValidSignature(signature, for: Data(digest))
        }
    }
}

/// Just enough DER to tell SPKI from PKCS#1, measure the modulus and wrap PKCS#1 into SPKI.
enum RSAKeyDER {
    /// rsaEncryption AlgorithmIdentifier: SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }.
    static let rsaAlgorithmIdentifier: [UInt8] = [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D,
                                                  0x01, 0x01, 0x01, 0x05, 0x00]

    static func spkiAndBits(_ der: [UInt8]) -> ([UInt8], Int)? {
        guard let (tag, content, rest) = readTLV(der[...]), tag == 0x30, rest.isEmpty,
              let (firstTag, firstContent, afterFirst) = readTLV(content) else { return nil }
        switch firstTag {
        case 0x30:   // SPKI: AlgorithmIdentifier, BIT STRING { 0x00, RSAPublicKey }
            guard let (bitTag, bits, end) = readTLV(afterFirst), bitTag == 0x03, end.isEmpty,
                  bits.first == 0x00, let n = modulusBits(Array(bits.dropFirst())) else { return nil }
            guard Array(firstContent).starts(with: rsaAlgorithmIdentifier.dropFirst(2).prefix(11)) else { return nil }
            return (der, n)
        case 0x02:   // bare PKCS#1 RSAPublicKey
            guard let n = modulusBits(der) else { return nil }
            let bitString = tlv(0x03, [0x00] + der)
            return (tlv(0x30, rsaAlgorithmIdentifier + bitString), n)
        default:
            return nil
        }
    }

    /// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } → bit length of the modulus.
    static func modulusBits(_ der: [UInt8]) -> Int? {
        guard let (tag, content, rest) = readTLV(der[...]), tag == 0x30, rest.isEmpty,
              let (intTag, modulus, afterModulus) = readTLV(content), intTag == 0x02,
              let (eTag, _, end) = readTLV(afterModulus), eTag == 0x02, end.isEmpty else { return nil }
        let significant = modulus.drop(while: { $0 == 0 })
        guard let top = significant.first else { return nil }
        return (significant.count - 1) * 8 + (8 - top.leadingZeroBitCount)
    }

    static func readTLV(_ s: ArraySlice<UInt8>) -> (UInt8, ArraySlice<UInt8>, ArraySlice<UInt8>)? {
        var i = s.startIndex
        guard i < s.endIndex else { return nil }
        let tag = s[i]; i += 1
        guard i < s.endIndex else { return nil }
        var length = Int(s[i]); i += 1
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count >= 1, count <= 3, s.endIndex - i >= count else { return nil }
            length = 0
            for _ in 0..<count { length = length << 8 | Int(s[i]); i += 1 }
        }
        guard s.endIndex - i >= length else { return nil }
        return (tag, s[i..<(i + length)], s[(i + length)...])
    }

    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [tag]
        let n = content.count
        if n < 0x80 {
            out.append(UInt8(n))
        } else if n <= 0xFF {
            out += [0x81, UInt8(n)]
        } else if n <= 0xFFFF {
            out += [0x82, UInt8(n >> 8), UInt8(n & 0xFF)]
        } else {
            out += [0x83, UInt8(n >> 16), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
        }
        return out + content
    }
}
