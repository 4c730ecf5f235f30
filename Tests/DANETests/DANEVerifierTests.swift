import Crypto
import DANE
import DNSCore
import Foundation
import SwiftASN1
import Testing
import X509

/// TLSA matching (RFC 7672 §3) as a table: each row a TLSA RRset, the chain a server presents (leaf
/// first), the reference name, and the expected outcome. Association data is computed here through
/// swift-certificates' own encoding of the key, independently of the module's raw SPKI extraction.
@Suite struct DANEVerifierTests {
    enum Cert: String, Sendable { case ca, otherCA, leaf, expiredLeaf, selfSigned }

    static func der(_ cert: Cert) -> [UInt8] {
        let c = TestChain.shared
        switch cert {
        case .ca: return c.ca
        case .otherCA: return c.otherCA
        case .leaf: return c.leaf
        case .expiredLeaf: return c.expiredLeaf
        case .selfSigned: return c.selfSigned
        }
    }

    /// `usage selector matching` over `cert`, computed independently of the module.
    static func tlsa(_ usage: UInt8, _ selector: UInt8, _ matching: UInt8, _ cert: Cert) -> TLSARecord {
        let der = der(cert)
        var bytes = der
        if selector == 1 {
            let parsed = try! Certificate(derEncoded: der)
            var serializer = DER.Serializer()
            try! serializer.serialize(parsed.publicKey)
            bytes = serializer.serializedBytes
        }
        let data: [UInt8]
        switch matching {
        case 1: data = Array(SHA256.hash(data: bytes))
        case 2: data = Array(SHA512.hash(data: bytes))
        default: data = bytes
        }
        return TLSARecord(usage: usage, selector: selector, matchingType: matching, data: data)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var records: [TLSARecord]
        var chain: [Cert]
        var reference = "mx.dane.test"
        /// The parameters of the record that verifies, or nil for a failure.
        var verifiedBy: String?
        /// Text the failure reason must contain.
        var reason = ""
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "3 1 1 matches a self-signed, expired certificate for another name", records: [tlsa(3, 1, 1, .selfSigned)],
             chain: [.selfSigned], verifiedBy: "3 1 1"),
        Case(name: "3 0 1 (whole certificate, SHA-256)", records: [tlsa(3, 0, 1, .leaf)], chain: [.leaf, .ca], verifiedBy: "3 0 1"),
        Case(name: "3 1 2 (key, SHA-512)", records: [tlsa(3, 1, 2, .leaf)], chain: [.leaf], verifiedBy: "3 1 2"),
        Case(name: "3 1 0 (the key itself)", records: [tlsa(3, 1, 0, .leaf)], chain: [.leaf], verifiedBy: "3 1 0"),
        Case(name: "3 0 0 (the certificate itself)", records: [tlsa(3, 0, 0, .leaf)], chain: [.leaf], verifiedBy: "3 0 0"),
        Case(name: "3 1 1 of another key", records: [tlsa(3, 1, 1, .selfSigned)], chain: [.leaf, .ca],
             reason: "TLSA 3 1 1 for mx.dane.test does not match the certificate offered (sha256 of its key is "
                + hex(tlsa(3, 1, 1, .leaf).data) + ")"),
        Case(name: "one wrong, one right record", records: [tlsa(3, 1, 1, .selfSigned), tlsa(3, 1, 1, .leaf)],
             chain: [.leaf], verifiedBy: "3 1 1"),
        Case(name: "2 1 1 with the CA in the chain", records: [tlsa(2, 1, 1, .ca)], chain: [.leaf, .ca], verifiedBy: "2 1 1"),
        Case(name: "2 0 1 with the CA in the chain", records: [tlsa(2, 0, 1, .ca)], chain: [.leaf, .ca], verifiedBy: "2 0 1"),
        Case(name: "2 1 1 under a wildcard name", records: [tlsa(2, 1, 1, .ca)], chain: [.leaf, .ca],
             reference: "a.mx.dane.test", verifiedBy: "2 1 1"),
        Case(name: "2 1 1 but the CA is not sent", records: [tlsa(2, 1, 1, .ca)], chain: [.leaf],
             reason: "no certificate in the chain offered matches the trust anchor (the server sent only its own certificate)"),
        Case(name: "2 1 1 for another MX name", records: [tlsa(2, 1, 1, .ca)], chain: [.leaf, .ca], reference: "mx.other.test",
             reason: "the certificate is for mx.dane.test, *.mx.dane.test, not mx.other.test"),
        Case(name: "2 1 1 wildcard covers one label only", records: [tlsa(2, 1, 1, .ca)], chain: [.leaf, .ca],
             reference: "a.b.mx.dane.test", reason: "not a.b.mx.dane.test"),
        Case(name: "2 1 1 of another CA", records: [tlsa(2, 1, 1, .otherCA)], chain: [.leaf, .ca],
             reason: "TLSA 2 1 1 for mx.dane.test: no certificate in the chain offered matches the trust anchor"),
        Case(name: "2 1 1 but the leaf is not signed by it", records: [tlsa(2, 1, 1, .ca)], chain: [.selfSigned, .ca],
             reason: "is not signed by the next one"),
        Case(name: "2 1 1 with an expired leaf", records: [tlsa(2, 1, 1, .ca)], chain: [.expiredLeaf, .ca],
             reason: "is not valid now"),
        Case(name: "3 1 1 ignores the leaf's expiry", records: [tlsa(3, 1, 1, .expiredLeaf)], chain: [.expiredLeaf, .ca],
             verifiedBy: "3 1 1"),
        Case(name: "PKIX-EE (1) is unusable for SMTP", records: [tlsa(1, 1, 1, .leaf)], chain: [.leaf, .ca],
             reason: "no usable TLSA record for mx.dane.test"),
        Case(name: "PKIX-TA (0) is unusable for SMTP", records: [tlsa(0, 1, 1, .ca)], chain: [.leaf, .ca],
             reason: "no usable TLSA record"),
        Case(name: "a digest of the wrong length is unusable",
             records: [TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(tlsa(3, 1, 1, .leaf).data.dropLast()))],
             chain: [.leaf], reason: "no usable TLSA record"),
        Case(name: "an empty chain", records: [tlsa(3, 1, 1, .leaf)], chain: [], reason: "mx.dane.test sent no certificate"),
    ]

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test(arguments: cases)
    func verify(_ row: Case) {
        let result = DANE.verify(chain: row.chain.map(Self.der), records: row.records, host: "mx.dane.test",
                                 referenceNames: [row.reference], now: TestChain.now)
        switch result {
        case .verified(let record):
            #expect(record.parameters == row.verifiedBy, "verified by \(record) but expected \(row.verifiedBy ?? "a failure")")
        case .failed(let why):
            #expect(row.verifiedBy == nil, "failed: \(why)")
            #expect(why.contains(row.reason), "reason: \(why)")
        }
    }

    @Test(arguments: [
        (3, 1, 1, 32, true, nil), (2, 1, 1, 32, true, nil), (3, 0, 2, 64, true, nil), (3, 1, 0, 91, true, nil),
        (1, 1, 1, 32, false, "usage 1 (PKIX-EE) is not used for SMTP"), (0, 0, 1, 32, false, "usage 0 (PKIX-TA)"),
        (4, 1, 1, 32, false, "unknown usage 4"), (3, 2, 1, 32, false, "unknown selector 2"),
        (3, 1, 3, 32, false, "unknown matching type 3"), (3, 1, 2, 32, false, "32 bytes does not fit matching type 2"),
    ] as [(UInt8, UInt8, UInt8, Int, Bool, String?)])
    func usability(usage: UInt8, selector: UInt8, matching: UInt8, length: Int, usable: Bool, reason: String?) {
        let record = TLSARecord(usage: usage, selector: selector, matchingType: matching, data: Array(repeating: 7, count: length))
        #expect(record.isUsable == usable)
        if let reason { #expect(record.unusableReason?.contains(reason) == true, "\(record.unusableReason ?? "nil")") }
        else { #expect(record.unusableReason == nil) }
    }

    @Test func recordFromDNSAndPresentation() {
        let data = DNSRecordData.tlsa(usage: 3, selector: 1, matchingType: 1, data: [0xab, 0x01])
        let record = TLSARecord(data)
        #expect(record?.description == "3 1 1 ab01")
        #expect(TLSARecord(.a(IPAddress("192.0.2.1")!)) == nil)
    }
}
