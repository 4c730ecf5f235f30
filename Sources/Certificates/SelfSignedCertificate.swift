import ConfigFiles
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

    /// Writes `certs/<hostname>/privkey.pem` and `fullchain.pem` unless a fullchain.pem exists; returns
    /// false then. Run as root into a `root:apus` 0750 tree (docs/install.md, "Ownership and permissions"),
    /// they get the group of the directory, like the directory itself, so the server can read them: the key
    /// 0640 when the directory is closed to others (else 0600), the certificate 0644. Existing files are
    /// never replaced: a privkey.pem without its fullchain.pem is an error.
    @discardableResult
    public static func write(hostname: String, certsDirectory: String, ipAddresses: [[UInt8]] = []) throws -> Bool {
        let dir = "\(certsDirectory)/\(hostname)"
        if FileManager.default.fileExists(atPath: "\(dir)/fullchain.pem") { return false }
        let (cert, key) = try generate(hostname: hostname, ipAddresses: ipAddresses)
        do {
            try ConfigFile.makeDirectories(dir)
            guard try ConfigFile.createSecret("\(dir)/privkey.pem", contents: Array(key.utf8)) else {
                throw CertificateError(path: "\(dir)/privkey.pem",
                                       reason: "exists without fullchain.pem; not replacing it (remove it, or add its certificate)")
            }
            guard try ConfigFile.createPublic("\(dir)/fullchain.pem", contents: Array(cert.utf8)) else {
                return false   // written by another process meanwhile
            }
        } catch let failure as ConfigFile.Failure {
            throw CertificateError(path: failure.path,
                                   reason: "cannot write the certificate files: \(failure.operation): \(String(cString: strerror(failure.errno)))")
        }
        return true
    }
}
