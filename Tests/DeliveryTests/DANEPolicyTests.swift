import DANE
import Delivery
import DNSCore
import Testing

/// When DANE applies to an MX host (RFC 7672 §2.2), as a table over what DNS said.
@Suite struct DANEPolicyTests {
    static let name = "_25._tcp.mx.example.net"
    static let record = DNSResourceRecord(name: try! DNSName(name), ttl: 300,
                                          data: .tlsa(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 32)))
    static let pkix = DNSResourceRecord(name: try! DNSName(name), ttl: 300,
                                        data: .tlsa(usage: 1, selector: 1, matchingType: 1, data: Array(repeating: 2, count: 32)))

    static func answer(_ records: [DNSResourceRecord], secure: Bool) -> DNSLookupResult {
        .answer(DNSAnswer(name: try! DNSName(name), records: records, authenticatedData: secure))
    }

    enum Expected: Sendable, Equatable {
        case notApplicable, required(usable: Int, unusable: Int), lookupFailed
    }

    @Test(arguments: [
        ("resolver not trusted", false, true, true, answer([record], secure: true), Expected.notApplicable, "[dns] dnssec is false"),
        ("MX insecure", true, false, true, answer([record], secure: true), .notApplicable, "MX records are not DNSSEC-signed"),
        ("addresses insecure", true, true, false, nil, .notApplicable, "address records are not DNSSEC-signed"),
        ("TLSA insecure", true, true, true, answer([record], secure: false), .notApplicable, "are insecure"),
        ("no TLSA (NXDOMAIN)", true, true, true, .nxdomain, .notApplicable, "no TLSA record at _25._tcp.mx.example.net"),
        ("no TLSA (NODATA)", true, true, true, .noData, .notApplicable, "no TLSA record"),
        ("secure TLSA", true, true, true, answer([record], secure: true), .required(usable: 1, unusable: 0), ""),
        ("only PKIX-EE: TLS mandatory, no authentication", true, true, true, answer([pkix], secure: true),
         .required(usable: 0, unusable: 1), ""),
        ("mixed", true, true, true, answer([record, pkix], secure: true), .required(usable: 1, unusable: 1), ""),
        ("SERVFAIL (bogus)", true, true, true, .serverFailure, .lookupFailed, "failed (SERVFAIL)"),
        ("timeout", true, true, true, .timeout, .lookupFailed, "RFC 7672 §2.2"),
    ] as [(String, Bool, Bool, Bool, DNSLookupResult?, Expected, String)])
    func decide(_ label: String, trusted: Bool, mxSecure: Bool, addressesSecure: Bool, tlsa: DNSLookupResult?,
                expected: Expected, text: String) {
        let policy = DANEPolicy.decide(trusted: trusted, mxSecure: mxSecure, addressesSecure: addressesSecure,
                                       tlsaName: Self.name, tlsa: tlsa)
        switch (policy, expected) {
        case (.notApplicable(let why), .notApplicable), (.lookupFailed(let why), .lookupFailed):
            #expect(why.contains(text), "\(label): \(why)")
        case (.required(let name, let usable, let unusable), .required(let u, let n)):
            #expect(name == Self.name && usable.count == u && unusable.count == n, "\(label)")
        default:
            Issue.record("\(label): \(policy), expected \(expected)")
        }
    }

    @Test func tlsaName() {
        #expect(DANEPolicy.tlsaName(host: "mx.example.net", port: 25) == "_25._tcp.mx.example.net")
        #expect(DANEPolicy.tlsaName(host: "mx.example.net.", port: 2525) == "_2525._tcp.mx.example.net")
    }
}
