import Crypto
import Foundation
import SwiftASN1
import X509

/// Certificates for the tables: a CA and a leaf it signed for mx.dane.test, a second CA, and a
/// self-signed leaf for another name that expired a year ago (DANE-EE must not care).
struct TestChain {
    static let now = Date(timeIntervalSince1970: 1_796_000_000)   // 2026-11-29

    let ca: [UInt8]
    let otherCA: [UInt8]
    let leaf: [UInt8]
    let expiredLeaf: [UInt8]
    let selfSigned: [UInt8]

    static let shared = try! TestChain()

    init() throws {
        let caKey = P256.Signing.PrivateKey(), otherKey = P256.Signing.PrivateKey()
        let leafKey = P256.Signing.PrivateKey(), selfKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("DANE Test CA") }
        let otherName = try DistinguishedName { CommonName("Other CA") }
        let year: TimeInterval = 365 * 86400
        ca = try Self.make(key: caKey, subject: caName, issuer: caName, issuerKey: caKey, isCA: true, names: [],
                           from: Self.now - year, to: Self.now + year)
        otherCA = try Self.make(key: otherKey, subject: otherName, issuer: otherName, issuerKey: otherKey, isCA: true,
                                names: [], from: Self.now - year, to: Self.now + year)
        leaf = try Self.make(key: leafKey, subject: try DistinguishedName { CommonName("mx.dane.test") }, issuer: caName,
                             issuerKey: caKey, isCA: false, names: ["mx.dane.test", "*.mx.dane.test"],
                             from: Self.now - 86400, to: Self.now + 86400)
        expiredLeaf = try Self.make(key: leafKey, subject: try DistinguishedName { CommonName("mx.dane.test") },
                                    issuer: caName, issuerKey: caKey, isCA: false, names: ["mx.dane.test"],
                                    from: Self.now - 2 * year, to: Self.now - year)
        let selfName = try DistinguishedName { CommonName("somewhere.else.example") }
        selfSigned = try Self.make(key: selfKey, subject: selfName, issuer: selfName, issuerKey: selfKey, isCA: false,
                                   names: ["somewhere.else.example"], from: Self.now - 2 * year, to: Self.now - year)
    }

    static func make(key: P256.Signing.PrivateKey, subject: DistinguishedName, issuer: DistinguishedName,
                     issuerKey: P256.Signing.PrivateKey, isCA: Bool, names: [String], from: Date, to: Date) throws -> [UInt8] {
        let extensions = try Certificate.Extensions {
            Critical(isCA ? BasicConstraints.isCertificateAuthority(maxPathLength: nil) : BasicConstraints.notCertificateAuthority)
            if !names.isEmpty { SubjectAlternativeNames(names.map { GeneralName.dnsName($0) }) }
        }
        let certificate = try Certificate(version: .v3, serialNumber: Certificate.SerialNumber(),
                                          publicKey: .init(key.publicKey), notValidBefore: from, notValidAfter: to,
                                          issuer: issuer, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                                          extensions: extensions, issuerPrivateKey: .init(issuerKey))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }
}
