@testable import MailServer
import Testing

/// The domain of a message's From address (what outbound DKIM signs for and DMARC aligns with), found over
/// the bytes of the field: checked against the Character-wise search it replaced.
struct FromDomainTests {
    static func reference(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("from:") }) else { return nil }
        let value = String(line.dropFirst(5))
        var address = Substring(value)
        if let open = value.lastIndex(of: "<"), let close = value[open...].firstIndex(of: ">") {
            address = value[value.index(after: open)..<close]
        }
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = address[address.index(after: at)...].prefix { !" \t\r\n>,;()".contains($0) }
        return domain.isEmpty ? nil : domain.lowercased()
    }

    @Test(arguments: [
        ("From: Ann <ann@Example.ORG>", "example.org"), ("From: ann@example.org", "example.org"),
        ("From: \"a@b\" <ann@mail.example.org>", "mail.example.org"), ("From: ann@example.org (Ann)", "example.org"),
        ("From: x@a.test, y@b.test", "b.test"), ("From: <ann@exämple.org>", "exämple.org"), ("From: ann", nil),
        ("From: <ann@>", nil), ("From: Ann <ann@example.org>;", "example.org"), ("From: ann@ex\tample.org", "ex"),
    ])
    func table(field: String, expected: String?) {
        let message = Array("\(field)\r\nTo: b@c.test\r\nSubject: s\r\n\r\nbody\r\n".utf8)
        #expect(OutboundSigner.fromDomain(message) == expected)
        #expect(Self.reference(message) == expected)
    }
}
