import DANE
import DNSCore

/// Whether DANE (RFC 7672 §2.2) applies to one MX host, decided from what DNS said: a pure function of
/// the lookups, so that every case is a row in a table (`DANEPolicyTests`).
///
/// DANE applies only when everything leading to the TLSA records was validated: the resolver is trusted
/// to validate (`[dns] dnssec = true`), the MX RRset is secure (for an implicit MX, the domain's own
/// addresses stand in), the host's address records are secure (§2.2.2), and the TLSA RRset at
/// `_<port>._tcp.<host>` is secure. A TLSA lookup that fails (SERVFAIL, which is also how a validating
/// resolver reports "bogus", or a timeout) after secure addresses makes the host unusable for now (§2.2):
/// an attacker must not be able to switch DANE off by breaking the lookup.
public enum DANEPolicy: Sendable, Hashable {
    /// No DANE: deliver as without it (opportunistic TLS, MTA-STS, downgrade protection). The text says why,
    /// for the debug log.
    case notApplicable(String)
    /// TLSA records exist: TLS is mandatory, and when `usable` is not empty the server must match one of
    /// them. `name` is the TLSA owner name, `unusable` the records skipped (RFC 7672 §3.1.3).
    case required(name: String, usable: [TLSARecord], unusable: [TLSARecord])
    /// The TLSA lookup failed under DNSSEC: do not use this host now (a temporary failure).
    case lookupFailed(String)

    /// `_25._tcp.mx.example.net`: where the TLSA records of `host` on `port` are (RFC 6698 §3).
    public static func tlsaName(host: String, port: Int) -> String {
        var name = host
        if name.hasSuffix(".") { name.removeLast() }
        return "_\(port)._tcp.\(name)"
    }

    /// - Parameters:
    ///   - trusted: `[dns] dnssec`: the resolver's AD bit may be believed.
    ///   - mxSecure: the MX answer had the AD bit (true for an implicit MX).
    ///   - addressesSecure: every address answer of the host had the AD bit.
    ///   - tlsa: the TLSA lookup (nil when it was not made).
    public static func decide(trusted: Bool, mxSecure: Bool, addressesSecure: Bool, tlsaName: String,
                              tlsa: DNSLookupResult?) -> DANEPolicy {
        guard trusted else { return .notApplicable("[dns] dnssec is false: the resolver's AD bit is not trusted") }
        guard mxSecure else { return .notApplicable("the MX records are not DNSSEC-signed (insecure)") }
        guard addressesSecure else { return .notApplicable("the address records are not DNSSEC-signed (insecure)") }
        guard let tlsa else { return .notApplicable("no TLSA lookup made") }
        switch tlsa {
        case .answer(let answer):
            guard answer.authenticatedData else { return .notApplicable("the TLSA records of \(tlsaName) are insecure") }
            let records = answer.data.compactMap(TLSARecord.init)
            guard !records.isEmpty else { return .notApplicable("no TLSA record at \(tlsaName)") }
            return .required(name: tlsaName, usable: records.filter(\.isUsable), unusable: records.filter { !$0.isUsable })
        case .nxdomain, .noData:
            return .notApplicable("no TLSA record at \(tlsaName)")
        default:
            return .lookupFailed("TLSA lookup for \(tlsaName) failed (\(tlsa.failure.map(\.description) ?? "?")) "
                + "while its address records are DNSSEC-signed: not using this host until it answers (RFC 7672 §2.2)")
        }
    }
}
