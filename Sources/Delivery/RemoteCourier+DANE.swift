import DANE
import DNSCore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

extension RemoteCourier {
    /// MX records of `domain` and whether the answer was DNSSEC-validated (the AD bit).
    func mxLookup(_ domain: String) async -> (DNSResult<[MXRecord]>, secure: Bool) {
        let result = await dns.lookup(domain, .mx)
        let records = result.map { answer in
            answer.data.compactMap { data -> MXRecord? in
                guard case .mx(let preference, let exchange) = data else { return nil }
                return MXRecord(preference: preference, exchange: exchange)
            }
        }
        return (records, result.answer?.authenticatedData ?? false)
    }

    /// DANE for `host` (RFC 7672 §2.2.2): its address answers' AD bits, then its TLSA records. The address
    /// lookups repeat those `dns.addresses` just made and come from the resolver's cache.
    func danePolicy(host: String, mxSecure: Bool) async -> DANEPolicy {
        let name = DANEPolicy.tlsaName(host: host, port: port)
        guard dnssec, mxSecure else {
            return DANEPolicy.decide(trusted: dnssec, mxSecure: mxSecure, addressesSecure: false, tlsaName: name, tlsa: nil)
        }
        async let v6 = dns.lookup(host, .aaaa)
        async let v4 = dns.lookup(host, .a)
        let answers = [await v6, await v4].compactMap(\.answer)
        let secure = !answers.isEmpty && answers.allSatisfy(\.authenticatedData)
        let tlsa = secure ? await dns.lookup(name, .tlsa) : nil
        return DANEPolicy.decide(trusted: true, mxSecure: true, addressesSecure: secure, tlsaName: name, tlsa: tlsa)
    }

    /// A custom certificate check for NIOSSL that matches the presented chain against `records` instead of
    /// a CA store; its verdict is kept in `outcome` so that a refusal can be reported in words.
    static func daneVerification(records: [TLSARecord], host: String, outcome: NIOLockedValueBox<DANEVerification?>)
        -> @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void {
        { certificates, promise in
            let chain = certificates.compactMap { try? $0.toDERBytes() }
            var name = host
            if name.hasSuffix(".") { name.removeLast() }
            let result = DANE.verify(chain: chain, records: records, host: name, referenceNames: [name], now: Date())
            outcome.withLockedValue { $0 = result }
            if case .verified = result { promise.succeed(.certificateVerified) } else { promise.succeed(.failed) }
        }
    }
}
