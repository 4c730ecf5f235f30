import Crypto
import Foundation
import SwiftASN1
import X509

/// A self-signed certificate for `apus init` and `apus dev`, until a real one is obtained
/// (certbot or acme.sh writing into `certs/<name>/`). P-256, valid for the host name (and, for
/// development, loopback addresses). Mail servers accept self-signed certificates for STARTTLS
/// (opportunistic TLS), so this works from the first minute; MTA-STS needs a real one.
public enum SelfSignedCertificate {
    /// Returns (fullchain PEM, private key PEM). No KeyUsage extension: BoringSSL refuses a
    /// self-signed leaf with digitalSignature only as its own trust anchor (SWIFT-NOTES §3d).
    public static func generate(hostname: String, ipAddresses: [[UInt8]] = [], validDays: Int = 825,
                                now: Date = Date()) throws -> (certificate: String, privateKey: String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(hostname) }
        var sans: [GeneralName] = [.dnsName(hostname)]
        for ip in ipAddresses { sans.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip)))) }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            SubjectAlternativeNames(sans)
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(Double(validDays) * 86400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: .init(key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let pem = PEMDocument(type: "CERTIFICATE", derBytes: serializer.serializedBytes).pemString
        return (pem + "\n", key.pemRepresentation + "\n")
    }

    /// Writes `certs/<hostname>/fullchain.pem` and `privkey.pem` (0600) unless they exist.
    /// Returns false when a certificate was already there.
    @discardableResult
    public static func write(hostname: String, certsDirectory: String, ipAddresses: [[UInt8]] = []) throws -> Bool {
        let dir = "\(certsDirectory)/\(hostname)"
        let fm = FileManager.default
        if fm.fileExists(atPath: "\(dir)/fullchain.pem") { return false }
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let (cert, key) = try generate(hostname: hostname, ipAddresses: ipAddresses)
        guard fm.createFile(atPath: "\(dir)/privkey.pem", contents: Data(key.utf8), attributes: [.posixPermissions: 0o600]),
              fm.createFile(atPath: "\(dir)/fullchain.pem", contents: Data(cert.utf8), attributes: [.posixPermissions: 0o644]) else {
            throw CertificateError(path: dir, reason: "cannot write the certificate files")
        }
        return true
    }
}
