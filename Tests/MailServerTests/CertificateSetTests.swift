import Certificates
import Foundation
import NIOSSL
import Testing

/// Loading `certs/<name>/`: a pair that cannot be served is an error naming the file, and a failed
/// reload keeps the certificate that was being served.
struct CertificateSetTests {
    static let name = "mx.example.test"

    func makeCertsDirectory() throws -> (certs: String, dir: String) {
        let certs = NSTemporaryDirectory() + "apus-certset-" + UUID().uuidString + "/certs"
        let dir = "\(certs)/\(Self.name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return (certs, dir)
    }

    func write(_ pair: (certificate: String, privateKey: String), to dir: String) throws {
        try pair.certificate.write(toFile: "\(dir)/fullchain.pem", atomically: true, encoding: .utf8)
        try pair.privateKey.write(toFile: "\(dir)/privkey.pem", atomically: true, encoding: .utf8)
    }

    func leaf(_ pem: String) throws -> [UInt8] {
        try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem).toDERBytes()
    }

    /// The acme.sh window: the new fullchain.pem is written, privkey.pem is still the old key.
    @Test func keyOfAnotherCertificateIsRefused() throws {
        let (certs, dir) = try makeCertsDirectory()
        defer { try? FileManager.default.removeItem(atPath: (certs as NSString).deletingLastPathComponent) }
        let a = try SelfSignedCertificate.generate(hostname: Self.name)
        let b = try SelfSignedCertificate.generate(hostname: Self.name)
        try write((b.certificate, a.privateKey), to: dir)
        let error = try #require(throws: CertificateError.self) { try CertificateSet.load(certsDirectory: certs) }
        #expect(error.path == "\(dir)/privkey.pem")
        #expect(error.reason.hasPrefix("does not match the certificate in \(dir)/fullchain.pem"))
    }

    /// A second certificate is only paired with its key during a handshake (SNI), so the check at load
    /// time is all that stops a mismatched pair from failing handshakes.
    @Test func mismatchedSNICertificateIsRefusedToo() throws {
        let (certs, dir) = try makeCertsDirectory()
        defer { try? FileManager.default.removeItem(atPath: (certs as NSString).deletingLastPathComponent) }
        try write(try SelfSignedCertificate.generate(hostname: Self.name), to: dir)
        let other = "\(certs)/mail.other.test"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let c = try SelfSignedCertificate.generate(hostname: "mail.other.test")
        let d = try SelfSignedCertificate.generate(hostname: "mail.other.test")
        try write((c.certificate, d.privateKey), to: other)
        let error = try #require(throws: CertificateError.self) { try CertificateSet.load(certsDirectory: certs) }
        #expect(error.path == "\(other)/privkey.pem")
    }

    /// A failed reload (mismatched or half-written files) keeps serving the previous certificate; the
    /// next reload after the files are complete serves the new one.
    @Test func failedReloadKeepsThePreviousCertificate() throws {
        let (certs, dir) = try makeCertsDirectory()
        defer { try? FileManager.default.removeItem(atPath: (certs as NSString).deletingLastPathComponent) }
        let a = try SelfSignedCertificate.generate(hostname: Self.name)
        let b = try SelfSignedCertificate.generate(hostname: Self.name)
        try write(a, to: dir)
        let provider = try TLSContextProvider(certsDirectory: certs, hostname: Self.name)
        let served = { try provider.certificates.entries.map { try $0.chain[0].toDERBytes() } }

        try b.certificate.write(toFile: "\(dir)/fullchain.pem", atomically: true, encoding: .utf8)
        #expect(throws: CertificateError.self) { try provider.reload() }
        #expect(try served() == [try leaf(a.certificate)])
        #expect(provider.context != nil)

        try String(b.privateKey.prefix(b.privateKey.count / 2))
            .write(toFile: "\(dir)/privkey.pem", atomically: true, encoding: .utf8)
        let half = try #require(throws: CertificateError.self) { try provider.reload() }
        #expect(half.path == "\(dir)/privkey.pem")
        #expect(try served() == [try leaf(a.certificate)])

        try b.privateKey.write(toFile: "\(dir)/privkey.pem", atomically: true, encoding: .utf8)
        try provider.reload()
        #expect(try served() == [try leaf(b.certificate)])
    }
}
