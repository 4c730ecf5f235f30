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
            guard try ConfigFile.create("\(dir)/privkey.pem", bytes: Array(key.utf8), secret: true) else {
                throw CertificateError(path: "\(dir)/privkey.pem",
                                       reason: "exists without fullchain.pem; not replacing it (remove it, or add its certificate)")
            }
            guard try ConfigFile.create("\(dir)/fullchain.pem", bytes: Array(cert.utf8), secret: false) else {
                return false   // written by another process meanwhile
            }
        } catch let failure as ConfigFile.Failure {
            throw CertificateError(path: failure.path,
                                   reason: "cannot write the certificate files: \(failure.operation): \(String(cString: strerror(failure.errno)))")
        }
        return true
    }
}

/// Creating files and directories in the configuration tree, as `DKIMKeyStore` does for DKIM keys (the same
/// helper is in DKIM/DKIMKeyStore.swift: the two modules share no lower module to hold it). A new file gets
/// the group of its directory (root may give any group; another user only one of its own), and group read
/// when that directory is closed to others — its group is then the audience, such as `apus` in a root:apus
/// 0750 tree. New directories take their parent's group and read/search bits. Nothing existing is changed.
enum ConfigFile {
    struct Failure: Error {
        let operation: String
        let path: String
        let errno: Int32
    }

    /// Creates `path` holding `bytes` unless it exists (false then): a temporary file in the same directory
    /// gets the group and mode (`secret`: 0640 or 0600, else 0644), is written and fsync'd, then hard-linked
    /// to `path` (which fails if `path` exists: never a replacement) and removed; the directory is fsync'd.
    static func create(_ path: String, bytes: [UInt8], secret: Bool) throws(Failure) -> Bool {
        let dir = parent(of: path)
        var parentInfo = stat()
        guard stat(dir, &parentInfo) == 0 else { throw Failure(operation: "stat", path: dir, errno: errno) }
        let temp = "\(dir)/.\(path.split(separator: "/").last ?? "new").tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(operation: "create", path: temp, errno: errno) }
        var linked = false
        defer { if !linked { unlink(temp) } }
        do {
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw Failure(operation: "fstat", path: temp, errno: errno) }
            if info.st_gid != parentInfo.st_gid {
                if fchown(fd, uid_t.max, parentInfo.st_gid) == 0 {
                    info.st_gid = parentInfo.st_gid
                } else if geteuid() == 0 {
                    throw Failure(operation: "chgrp", path: temp, errno: errno)
                }
            }
            let groupReads = info.st_gid == parentInfo.st_gid && parentInfo.st_mode & 0o007 == 0
            let mode: mode_t = secret ? (groupReads ? 0o640 : 0o600) : 0o644
            guard fchmod(fd, mode) == 0 else { throw Failure(operation: "chmod", path: temp, errno: errno) }
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure(operation: "write", path: temp, errno: errno)
                }
                written += n
            }
            guard fsync(fd) == 0 else { throw Failure(operation: "fsync", path: temp, errno: errno) }
        }
        guard link(temp, path) == 0 else {
            if errno == EEXIST { return false }
            throw Failure(operation: "link", path: path, errno: errno)
        }
        linked = true
        unlink(temp)
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw Failure(operation: "open", path: dir, errno: errno) }
        defer { close(dfd) }
        guard fsync(dfd) == 0 else { throw Failure(operation: "fsync", path: dir, errno: errno) }
        return true
    }

    /// `mkdir -p`: each new directory gets its parent's group (when allowed) and its parent's read and search
    /// bits, never write for group or others: under a root:apus 0750 directory, root:apus 0750.
    static func makeDirectories(_ path: String) throws(Failure) {
        var missing: [String] = []
        var current = path
        var info = stat()
        while stat(current, &info) != 0 {
            guard errno == ENOENT else { throw Failure(operation: "stat", path: current, errno: errno) }
            missing.append(current)
            let up = parent(of: current)
            guard up != current else { break }
            current = up
        }
        for dir in missing.reversed() {
            var parentInfo = stat()
            guard stat(parent(of: dir), &parentInfo) == 0 else { throw Failure(operation: "stat", path: parent(of: dir), errno: errno) }
            guard mkdir(dir, 0o700) == 0 else {
                if errno == EEXIST { continue }   // made meanwhile by another process: not ours to change
                throw Failure(operation: "mkdir", path: dir, errno: errno)
            }
            let fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)   // never chown through a link
            guard fd >= 0 else { throw Failure(operation: "open", path: dir, errno: errno) }
            defer { close(fd) }
            if fchown(fd, uid_t.max, parentInfo.st_gid) != 0, geteuid() == 0 {
                throw Failure(operation: "chgrp", path: dir, errno: errno)
            }
            guard fchmod(fd, 0o700 | (parentInfo.st_mode & 0o055)) == 0 else {
                throw Failure(operation: "chmod", path: dir, errno: errno)
            }
        }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
