import Foundation
import X509

extension DANE {
    /// Checks the chain a server presented (DER, leaf first, as sent) against `records`, the TLSA RRset of
    /// `host` (RFC 7672 §3). Unusable records are skipped. DANE-EE(3) compares the leaf alone: its names and
    /// dates do not matter (§3.1.1). DANE-TA(2) looks for the trust anchor among the certificates the server
    /// sent (servers must include it, §3.1.2), then checks each link from the leaf up to it (issuer name and
    /// signature), the dates of the certificates below it at `now`, and that the leaf is for one of
    /// `referenceNames` (the MX host name, §3.2.2).
    public static func verify(chain: [[UInt8]], records: [TLSARecord], host: String, referenceNames: [String],
                              now: Date) -> DANEVerification {
        let usable = records.filter(\.isUsable)
        guard !usable.isEmpty else { return .failed("no usable TLSA record for \(host)") }
        guard let leafDER = chain.first else { return .failed("\(host) sent no certificate") }
        let leaf: PresentedCertificate
        do { leaf = try PresentedCertificate(der: leafDER) } catch {
            return .failed("the certificate \(host) offered cannot be read: \(error)")
        }
        let parsed = [leaf] + chain.dropFirst().compactMap { try? PresentedCertificate(der: $0) }
        var reasons: [String] = []
        for record in usable {
            switch record.usage {
            case TLSARecord.Usage.daneEE.rawValue:
                if leaf.matches(record) { return .verified(record) }
                reasons.append("TLSA \(record.parameters) for \(host) does not match the certificate offered (\(leaf.describe(for: record)))")
            default:
                switch verifyTrustAnchor(record, chain: parsed, referenceNames: referenceNames, now: now) {
                case nil: return .verified(record)
                case let why?: reasons.append("TLSA \(record.parameters) for \(host): \(why)")
                }
            }
        }
        return .failed(reasons.joined(separator: "; "))
    }

    /// Nil when `record` (DANE-TA) authenticates `chain`, else why not.
    static func verifyTrustAnchor(_ record: TLSARecord, chain: [PresentedCertificate], referenceNames: [String],
                                  now: Date) -> String? {
        guard let anchor = chain.indices.dropFirst().first(where: { chain[$0].matches(record) }) else {
            let offered = chain.dropFirst().map { $0.describe(for: record) }
            return "no certificate in the chain offered matches the trust anchor"
                + (offered.isEmpty ? " (the server sent only its own certificate)" : " (\(offered.joined(separator: ", ")))")
        }
        for i in 0..<anchor {
            let child = chain[i].certificate, issuer = chain[i + 1].certificate
            guard child.issuer == issuer.subject, issuer.publicKey.isValidSignature(child.signature, for: child) else {
                return "certificate \(i + 1) of the chain (\(child.subject)) is not signed by the next one (\(issuer.subject))"
            }
            if i > 0, case .notCertificateAuthority? = try? child.extensions.basicConstraints {
                return "intermediate certificate \(child.subject) is not a CA"
            }
            guard child.notValidBefore <= now, now <= child.notValidAfter else {
                return "certificate \(child.subject) is not valid now (valid \(child.notValidBefore) to \(child.notValidAfter))"
            }
        }
        let names = chain[0].dnsNames
        guard referenceNames.contains(where: { reference in names.contains { HostName.matches(pattern: $0, reference) } }) else {
            return "the certificate is for \(names.isEmpty ? "no DNS name" : names.joined(separator: ", ")), not \(referenceNames.joined(separator: " or "))"
        }
        return nil
    }
}
