import Crypto
import Foundation
import SwiftASN1
import X509

/// The certificate key and CSR sent at finalize (RFC 8555 §7.4): a new P-256 key per certificate,
/// the names in subjectAltName (the CN is the first name, for old clients that read it).
struct CertificateRequest {
    let key: P256.Signing.PrivateKey
    let der: [UInt8]

    init(names: [String]) throws {
        let key = P256.Signing.PrivateKey()
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
        }
        let csr = try CertificateSigningRequest(
            version: .v1,
            subject: try DistinguishedName { CommonName(names[0]) },
            privateKey: .init(key),
            attributes: try CertificateSigningRequest.Attributes([.init(ExtensionRequest(extensions: extensions))]),
            signatureAlgorithm: .ecdsaWithSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(csr)
        self.key = key
        self.der = serializer.serializedBytes
    }
}

/// The self-signed certificate that answers a TLS-ALPN-01 challenge (RFC 8737 §3): the name being
/// validated as its only subjectAltName, and the critical acmeIdentifier extension holding the SHA-256
/// of the key authorization.
enum ChallengeCertificate {
    /// id-pe-acmeIdentifier (RFC 8737 §6.1).
    static let acmeIdentifier: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 1, 31]

    /// (certificate PEM, private key PEM)
    static func make(name: String, keyAuthorization: String, now: Date = Date()) throws -> (String, String) {
        let key = P256.Signing.PrivateKey()
        let digest = Array(SHA256.hash(data: Array(keyAuthorization.utf8)))
        // extnValue holds the DER of `Authorization ::= OCTET STRING (SIZE (32))`.
        let value = [0x04, 0x20] + digest
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames([.dnsName(name)])
            Certificate.Extension(oid: acmeIdentifier, critical: true, value: value[...])
        }
        let subject = try DistinguishedName { CommonName(name) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(7 * 86400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: .init(key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let pem = PEMDocument(type: "CERTIFICATE", derBytes: serializer.serializedBytes).pemString
        return (pem + "\n", key.pemRepresentation + "\n")
    }
}
