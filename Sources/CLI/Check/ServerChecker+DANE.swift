import Certificates
import DANE
import DNSCore
import Foundation
import NIOSSL

extension ServerChecker {
    /// DANE for mail to us (RFC 7672): when `_25._tcp.<hostname>` has TLSA records, they must match the
    /// certificate Apus serves, or senders that use DANE defer all mail to us. No TLSA record: no finding
    /// (DANE is optional and needs a DNSSEC-signed zone).
    func checkDANE() async -> [CheckFinding] {
        let name = "_25._tcp.\(hostname)"
        let answer: DNSAnswer
        switch await dns.lookup(name, .tlsa) {
        case .answer(let found): answer = found
        case .nxdomain, .noData: return []
        case let other:
            return [.warning("dane", "cannot look up the TLSA records at \(name): \(other.failure.map(\.description) ?? "?")")]
        }
        let records = answer.data.compactMap(TLSARecord.init)
        guard !records.isEmpty else { return [] }
        let chain: [[UInt8]]
        do {
            let set = try CertificateSet.load(certsDirectory: certsDirectory)
            guard let entry = set.entries.first(where: { $0.matches(hostname) }) else { return [] }  // checkCertificate says it
            chain = try NIOSSLCertificate.fromPEMFile("\(certsDirectory)/\(entry.name)/fullchain.pem").map { try $0.toDERBytes() }
        } catch {
            return []   // checkCertificate reports an unreadable certificate
        }
        let current = chain.first.flatMap { try? PresentedCertificate(der: $0) }?
            .association(selector: 1, matchingType: 1).map { $0.map { String(format: "%02x", $0) }.joined() } ?? "…"
        switch DANE.verify(chain: chain, records: records, host: hostname, referenceNames: [hostname], now: now) {
        case .verified(let record):
            let unsigned = answer.authenticatedData ? [] : [CheckFinding.warning(
                "dane", "the DNS server used did not mark the TLSA answer for \(name) as DNSSEC-validated (AD bit): if the zone is not signed, senders ignore these records",
                fix: "sign the zone with DNSSEC at your DNS provider (and publish the DS record at the registrar)")]
            return [.ok("dane", "TLSA \(record.parameters) at \(name) matches the certificate for \(hostname)")] + unsigned
        case .failed(let why):
            return [.problem("dane", "TLSA records at \(name) do not match the certificate for \(hostname): senders using DANE will defer all mail to us (\(why))",
                             fix: "publish \(name). 3600 IN TLSA 3 1 1 \(current) and keep the old record until it has expired from caches; keep the key across renewals (certbot --reuse-key) so the record stays valid")]
        }
    }
}
