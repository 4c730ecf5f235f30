import Certificates
@testable import CLI
import DNSCore
import Foundation
import TestSupport
import Testing

/// `apus check`'s DANE line: the TLSA records at `_25._tcp.<hostname>` against the certificate in
/// `certs/<hostname>/fullchain.pem`, as a table over a `StaticResolver`. The matching record's hash is
/// computed by openssl from the PEM file.
@Suite struct DANECheckTests {
    static let hostname = "mx.example.com"
    static let name: DNSName = "_25._tcp.mx.example.com"

    enum TLSA: Sendable { case none, matching, wrong, servfail }

    @Test(arguments: [
        (TLSA.none, true, [String]()),
        (.matching, true, ["ok: TLSA 3 1 1 at _25._tcp.mx.example.com matches the certificate for mx.example.com"]),
        (.matching, false, ["ok: TLSA 3 1 1", "warning: the DNS server used did not mark the TLSA answer"]),
        (.wrong, true, ["problem: TLSA records at _25._tcp.mx.example.com do not match the certificate for mx.example.com: senders using DANE will defer all mail to us"]),
        (.servfail, true, ["warning: cannot look up the TLSA records at _25._tcp.mx.example.com: SERVFAIL"]),
    ] as [(TLSA, Bool, [String])])
    func tlsaAgainstCertificate(tlsa: TLSA, signed: Bool, expected: [String]) async throws {
        let root = NSTemporaryDirectory() + "apus-dane-check-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SelfSignedCertificate.write(hostname: Self.hostname, certsDirectory: root + "/certs")
        let digest = try DNSSECZone.run("/bin/sh", ["-c",
            "openssl x509 -in certs/\(Self.hostname)/fullchain.pem -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1"],
            in: root).trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes = stride(from: 0, to: digest.count, by: 2).map {
            UInt8(digest[digest.index(digest.startIndex, offsetBy: $0)..<digest.index(digest.startIndex, offsetBy: $0 + 2)], radix: 16)!
        }
        #expect(bytes.count == 32)
        var dns = StaticResolver()
        dns.authenticatedData = signed
        switch tlsa {
        case .none: break
        case .matching: dns.add(Self.name, .tlsa(usage: 3, selector: 1, matchingType: 1, data: bytes))
        case .wrong: dns.add(Self.name, .tlsa(usage: 3, selector: 1, matchingType: 1, data: bytes.reversed()))
        case .servfail: dns.fail(Self.name, .tlsa, with: .serverFailure)
        }
        let checker = ServerChecker(domain: "example.com", hostname: Self.hostname, dns: dns, listeners: [],
                                    certsDirectory: root + "/certs", caFile: "", smtpPort: 25, outboundProbe: "")
        let findings = await checker.checkDANE()
        #expect(findings.count == expected.count, "\(findings)")
        for (finding, text) in zip(findings, expected) {
            #expect("\(finding.status.rawValue): \(finding.message)".hasPrefix(text), "\(finding)")
            #expect(finding.check == "dane")
        }
        if tlsa == .wrong {
            #expect(findings.first?.fix?.contains("TLSA 3 1 1 \(digest)") == true, "\(findings.first?.fix ?? "nil")")
        }
    }
}
