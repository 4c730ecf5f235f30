import Crypto
import SwiftASN1
import X509

/// One certificate of the chain a server presented: its DER bytes, the exact DER bytes of its
/// SubjectPublicKeyInfo (what selector 1 hashes, RFC 6698 §2.1.2), and the parsed certificate for names,
/// dates and signatures.
public struct PresentedCertificate: Sendable, Hashable {
    public let der: [UInt8]
    public let spki: [UInt8]
    public let certificate: Certificate

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(der: [UInt8]) throws {
        self.der = der
        do {
            certificate = try Certificate(derEncoded: der)
            spki = try Self.subjectPublicKeyInfo(der)
        } catch let error as ParseError {
            throw error
        } catch {
            throw ParseError(description: "cannot parse the certificate: \(error)")
        }
    }

    /// The SubjectPublicKeyInfo as sent, not re-encoded: Certificate ::= SEQUENCE { tbsCertificate, … };
    /// TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity,
    /// subject, subjectPublicKeyInfo, … } (RFC 5280 §4.1).
    static func subjectPublicKeyInfo(_ der: [UInt8]) throws -> [UInt8] {
        let root = try DER.parse(der)
        guard case .constructed(let certificate) = root.content, let tbs = certificate.first(where: { _ in true }),
              case .constructed(let fields) = tbs.content else {
            throw ParseError(description: "not a DER certificate")
        }
        var list = Array(fields)
        if let first = list.first, first.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            list.removeFirst()
        }
        guard list.count > 5 else { throw ParseError(description: "the certificate has no subjectPublicKeyInfo") }
        return Array(list[5].encodedBytes)
    }

    /// The bytes selector `selector` designates (0 the certificate, 1 its key), through matching type
    /// `matchingType` (0 as is, 1 SHA-256, 2 SHA-512); nil for values RFC 6698 does not define.
    public func association(selector: UInt8, matchingType: UInt8) -> [UInt8]? {
        let bytes: [UInt8]
        switch selector {
        case 0: bytes = der
        case 1: bytes = spki
        default: return nil
        }
        switch matchingType {
        case 0: return bytes
        case 1: return Array(SHA256.hash(data: bytes))
        case 2: return Array(SHA512.hash(data: bytes))
        default: return nil
        }
    }

    /// Whether `record`'s association data matches this certificate.
    public func matches(_ record: TLSARecord) -> Bool {
        association(selector: record.selector, matchingType: record.matchingType) == record.data
    }

    /// "sha256 of its key is 1a2b…", what `record`'s selector and matching type give for this certificate,
    /// so that an operator can see what to publish.
    public func describe(for record: TLSARecord) -> String {
        let what = record.selector == 0 ? "certificate" : "key"
        switch record.matchingType {
        case 1, 2:
            let value = association(selector: record.selector, matchingType: record.matchingType) ?? []
            return "\(record.matchingType == 1 ? "sha256" : "sha512") of its \(what) is \(Hex.encode(value))"
        default:
            return "its \(what) differs"
        }
    }

    /// DNS names the certificate is for: subjectAltName dNSName entries, or the subject's common name when
    /// there are none (RFC 6125 §6.4.4).
    public var dnsNames: [String] {
        var names: [String] = []
        if let sans = try? certificate.extensions.subjectAlternativeNames {
            for case .dnsName(let text) in sans { names.append(text) }
        }
        if !names.isEmpty { return names }
        return certificate.subject.flatMap { $0 }
            .filter { $0.type == ASN1ObjectIdentifier.RDNAttributeType.commonName }
            .compactMap { String($0.value) }
    }
}
