/// TLS certificates for the listeners (DESIGN.md §3): `certs/<name>/fullchain.pem` and
/// `certs/<name>/privkey.pem`, the layout certbot and acme.sh write. Several certificates may be
/// present; the one whose names match the client's SNI is used, else the one for the host name.
import Foundation
import Logging
import NIOCore
import NIOSSL
import SwiftASN1
import X509

public struct CertificateError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// One certificate and its key, with the DNS names it is valid for.
public struct CertificateEntry: Sendable {
    public let name: String
    /// Lowercased DNS names from the subjectAltName (or the CN when there is none).
    public let dnsNames: [String]
    public let chain: [NIOSSLCertificate]
    public let key: NIOSSLPrivateKey
    public let notValidAfter: Date
    public let notValidBefore: Date
    public let isSelfSigned: Bool

    /// RFC 6125 §6.4: exact match, or a wildcard `*.example.com` matching one left-most label.
    public func matches(_ host: String) -> Bool {
        let host = host.lowercased()
        for name in dnsNames {
            if name == host { return true }
            if name.hasPrefix("*."), let dot = host.firstIndex(of: "."),
               host[host.index(after: dot)...] == name.dropFirst(2) {
                return true
            }
        }
        return false
    }
}

/// All certificates under `certs/`.
public struct CertificateSet: Sendable {
    public let entries: [CertificateEntry]

    public init(entries: [CertificateEntry]) {
        self.entries = entries
    }

    /// Loads every `certs/<name>/` that has both files. A directory with a missing or bad file is
    /// an error naming the file (a half-renewed certificate must not be served silently).
    public static func load(certsDirectory: String) throws -> CertificateSet {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: certsDirectory) else {
            return CertificateSet(entries: [])
        }
        var entries: [CertificateEntry] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let dir = "\(certsDirectory)/\(name)"
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { continue }
            entries.append(try loadEntry(name: name, directory: dir))
        }
        return CertificateSet(entries: entries)
    }

    static func loadEntry(name: String, directory: String) throws -> CertificateEntry {
        let chainPath = "\(directory)/fullchain.pem", keyPath = "\(directory)/privkey.pem"
        guard let chainData = FileManager.default.contents(atPath: chainPath) else {
            throw CertificateError(path: chainPath, reason: "missing or unreadable")
        }
        guard let keyData = FileManager.default.contents(atPath: keyPath) else {
            throw CertificateError(path: keyPath, reason: "missing or unreadable")
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(chainData))
        } catch {
            throw CertificateError(path: chainPath, reason: "not a PEM certificate chain (\(error))")
        }
        guard let leafDER = try? chain.first?.toDERBytes() else {
            throw CertificateError(path: chainPath, reason: "contains no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: Array(keyData), format: .pem)
        } catch {
            throw CertificateError(path: keyPath, reason: "not a PEM private key (\(error))")
        }
        try checkKeyMatches(chain: chain, key: key, chainPath: chainPath, keyPath: keyPath)
        let leaf: Certificate
        do {
            leaf = try Certificate(derEncoded: leafDER)
        } catch {
            throw CertificateError(path: chainPath, reason: "cannot parse the certificate (\(error))")
        }
        var names: [String] = []
        if let san = try? leaf.extensions.subjectAlternativeNames {
            for entry in san {
                if case .dnsName(let dns) = entry { names.append(dns.lowercased()) }
            }
        }
        if names.isEmpty {
            for rdn in leaf.subject {
                for attr in rdn where attr.type == .RDNAttributeType.commonName {
                    names.append(String(describing: attr.value).lowercased())
                }
            }
        }
        return CertificateEntry(name: name, dnsNames: names, chain: chain, key: key,
                                notValidAfter: leaf.notValidAfter, notValidBefore: leaf.notValidBefore,
                                isSelfSigned: leaf.issuer == leaf.subject)
    }

    /// The key must belong to the leaf certificate. A renewal that rewrites the two files one after
    /// the other (acme.sh, `cp` in a certbot deploy hook) leaves the new certificate beside the old key
    /// for a moment; such a pair is refused, and the caller keeps serving the previous one. BoringSSL
    /// makes the comparison when a pair goes into a context; doing it here also covers the certificates
    /// chosen by SNI, which are otherwise only paired during a handshake, where the mismatch would fail it.
    static func checkKeyMatches(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey,
                                chainPath: String, keyPath: String) throws {
        do {
            _ = try NIOSSLContext(configuration: .makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        } catch NIOSSLError.failedToLoadPrivateKey {
            throw CertificateError(path: keyPath, reason: "does not match the certificate in \(chainPath)")
        } catch {
            throw CertificateError(path: keyPath, reason: "cannot be used with the certificate in \(chainPath) (\(error))")
        }
    }

    /// The certificate for an SNI name: an exact or wildcard match, else the default.
    public func select(serverName: String?, defaultHost: String) -> CertificateEntry? {
        if let serverName, let hit = entries.first(where: { $0.matches(serverName) }) { return hit }
        return entries.first(where: { $0.matches(defaultHost) }) ?? entries.first
    }
}
