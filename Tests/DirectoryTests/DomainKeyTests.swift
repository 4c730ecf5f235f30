@testable import Directory
import Testing

/// The key a domain is looked up by: lowercased, without a final dot; a name that is one already is
/// returned as it is.
struct DomainKeyTests {
    @Test(arguments: [
        ("example.test", "example.test"), ("Example.TEST", "example.test"), ("example.test.", "example.test"),
        ("EXAMPLE.test.", "example.test"), ("ÉXAMPLE.test", "éxample.test"), ("exämple.test", "exämple.test"), ("", ""),
    ])
    func key(domain: String, expected: String) {
        #expect(MailDirectory.key(domain) == expected)
        var reference = domain.lowercased()
        if reference.hasSuffix(".") { reference.removeLast() }
        #expect(reference == expected)
    }
}
