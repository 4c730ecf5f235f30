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

    /// DANE for `host` (RFC 7672 §2.2.2): its address answers' AD bits, then its TLSA records — at the name
    /// the addresses were found under when `host` is a CNAME (then at `host` itself if there are none). The
    /// address lookups repeat those `dns.addresses` just made and come from the resolver's cache. Also the
    /// names a DANE-TA certificate may be for (§3.2.2): the TLSA base name and `host`.
    func danePolicy(host: String, mxSecure: Bool) async -> (policy: DANEPolicy, referenceNames: [String]) {
        var names = [Self.bare(host)]
        let name = DANEPolicy.tlsaName(host: host, port: port)
        guard dnssec, mxSecure else {
            return (DANEPolicy.decide(trusted: dnssec, mxSecure: mxSecure, addressesSecure: false, tlsaName: name, tlsa: nil), names)
        }
        async let v6 = dns.lookup(host, .aaaa)
        async let v4 = dns.lookup(host, .a)
        let answers = [await v6, await v4].compactMap(\.answer)
        let secure = !answers.isEmpty && answers.allSatisfy(\.authenticatedData)
        guard secure else {
            return (DANEPolicy.decide(trusted: true, mxSecure: true, addressesSecure: false, tlsaName: name, tlsa: nil), names)
        }
        if let expanded = answers.map({ Self.bare($0.canonicalName.description) }).first(where: { $0 != names[0] }) {
            let expandedName = DANEPolicy.tlsaName(host: expanded, port: port)
            let tlsa = await dns.lookup(expandedName, .tlsa)
            if tlsa != .nxdomain && tlsa != .noData {
                names.insert(expanded, at: 0)
                return (DANEPolicy.decide(trusted: true, mxSecure: true, addressesSecure: true, tlsaName: expandedName,
                                          tlsa: tlsa), names)
            }
        }
        let tlsa = await dns.lookup(name, .tlsa)
        return (DANEPolicy.decide(trusted: true, mxSecure: true, addressesSecure: true, tlsaName: name, tlsa: tlsa), names)
    }

    /// Lower case, without the final dot.
    static func bare(_ name: String) -> String {
        var lower = name.lowercased()
        if lower.hasSuffix(".") { lower.removeLast() }
        return lower
    }

    /// A custom certificate check for NIOSSL that matches the presented chain against `records` instead of
    /// a CA store; its verdict is kept in `outcome` so that a refusal can be reported in words.
    static func daneVerification(records: [TLSARecord], host: String, referenceNames: [String],
                                 outcome: NIOLockedValueBox<DANEVerification?>)
        -> @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void {
        { certificates, promise in
            let chain = certificates.compactMap { try? $0.toDERBytes() }
            let result = DANE.verify(chain: chain, records: records, host: bare(host), referenceNames: referenceNames,
                                     now: Date())
            outcome.withLockedValue { $0 = result }
            if case .verified = result { promise.succeed(.certificateVerified) } else { promise.succeed(.failed) }
        }
    }
}
