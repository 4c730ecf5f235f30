import Foundation
import SwiftASN1
import X509

/// What is in `certs/<name>/fullchain.pem` now, and when it is due: one line of `apus cert status`.
public struct CertificateStatus: Sendable {
    public var name: String
    public var path: String
    /// nil when there is no readable certificate.
    public var leaf: Leaf?
    public var problem: String?

    public struct Leaf: Sendable {
        public var dnsNames: [String]
        public var issuerCommonName: String
        public var issuerOrganization: String
        public var notBefore: Date
        public var notAfter: Date
        public var selfSigned: Bool
    }

    public init(name: String, certsDirectory: String) {
        self.name = name
        self.path = "\(certsDirectory)/\(name)/fullchain.pem"
        guard let data = FileManager.default.contents(atPath: path) else {
            problem = "missing"
            return
        }
        do {
            let pem = String(decoding: data, as: UTF8.self)
            guard let end = pem.range(of: "-----END CERTIFICATE-----") else { throw ACMEError("no certificate") }
            let certificate = try Certificate(pemEncoded: String(pem[..<end.upperBound]))
            var names: [String] = []
            if let sans = try? certificate.extensions.subjectAlternativeNames {
                for entry in sans {
                    if case .dnsName(let dns) = entry { names.append(dns.lowercased()) }
                }
            }
            leaf = Leaf(dnsNames: names,
                        issuerCommonName: Self.attribute(.RDNAttributeType.commonName, in: certificate.issuer),
                        issuerOrganization: Self.attribute(.RDNAttributeType.organizationName, in: certificate.issuer),
                        notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter,
                        selfSigned: certificate.issuer == certificate.subject)
        } catch {
            problem = "unreadable: \(error)"
        }
    }

    static func attribute(_ type: ASN1ObjectIdentifier, in name: DistinguishedName) -> String {
        for rdn in name {
            for attribute in rdn where attribute.type == type { return String(describing: attribute.value) }
        }
        return ""
    }

    /// The planned renewal date (2/3 of the lifetime, with a jitter fixed per name so that the server and
    /// `apus cert status` agree).
    public var renewalDate: Date? {
        guard let leaf else { return nil }
        return RenewalSchedule.renewalDate(notBefore: leaf.notBefore, notAfter: leaf.notAfter, jitter: Self.jitter(for: name))
    }

    /// Why it must be obtained now, or nil.
    public func reason(now: Date) -> RenewalSchedule.Reason? {
        guard let leaf else { return .missing }
        if leaf.selfSigned { return .selfSigned }
        if !leaf.dnsNames.contains(name) { return .namesChanged }
        if let renewalDate, now >= renewalDate { return .due }
        return nil
    }

    static func jitter(for name: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Double(hash % 1000) / 1000
    }

    /// `name  names=a,b  issuer="CN" O="Org"  not-after=…  renewal=…`
    public func line(now: Date) -> String {
        guard let leaf else { return "\(name)  \(problem ?? "missing")  (\(path))  renewal=now" }
        let iso = ISO8601DateFormatter()
        var text = "\(name)  names=\(leaf.dnsNames.joined(separator: ","))"
        text += "  issuer=\"\(leaf.issuerCommonName)\" O=\"\(leaf.issuerOrganization)\""
        text += "  not-after=\(iso.string(from: leaf.notAfter))"
        if let reason = reason(now: now) {
            text += "  renewal=now (\(reason.rawValue))"
        } else if let renewalDate {
            text += "  renewal=\(iso.string(from: renewalDate))"
        }
        return text
    }
}
