import NIOCore
import Testing
@testable import SMTPProtocol
import DNSCore

/// Parser table: each input line with the command it gives or the reply it earns.
struct SMTPCommandTests {
    static let valid: [(String, SMTPCommand)] = [
        ("EHLO client.example", .ehlo("client.example")),
        ("ehlo [192.0.2.1]", .ehlo("[192.0.2.1]")),
        ("HELO client", .helo("client")),
        ("EHLO  \tclient.example \t ", .ehlo("client.example")),                 // blanks around the name
        ("EHLO bücher.example ", .ehlo("bücher.example")),
        ("RSET  ", .rset), ("QUIT ", .quit),
        ("MAIL FROM:<\"a>b\"@example.com>  SIZE=5", .mail(.mailbox(m("a>b", "example.com")), MailParameters(size: 5))),
        ("RCPT TO:<\"é>\\\"\"@example.com>", .rcpt(.mailbox(m("é>\"", "example.com")))),
        ("MAIL FROM:<a@example.com>", .mail(.mailbox(m("a", "example.com")), MailParameters())),
        ("mail from:<a@Example.COM>", .mail(.mailbox(Mailbox(localPart: "a", domain: .name(ascii: "example.com", display: "Example.COM"))), MailParameters())),
        ("MAIL FROM: <a@example.com>", .mail(.mailbox(m("a", "example.com")), MailParameters())),
        ("MAIL FROM:<>", .mail(.null, MailParameters())),
        ("MAIL FROM:<> SIZE=1000", .mail(.null, MailParameters(size: 1000))),
        ("MAIL FROM:<a@b.example> BODY=8BITMIME SMTPUTF8", .mail(.mailbox(m("a", "b.example")), MailParameters(body: .eightBitMIME, smtputf8: true))),
        ("MAIL FROM:<a@b.example> AUTH=<>", .mail(.mailbox(m("a", "b.example")), MailParameters(auth: "<>"))),
        // RFC 8689 §2: REQUIRETLS, no value, any case, beside other parameters.
        ("MAIL FROM:<a@b.example> REQUIRETLS", .mail(.mailbox(m("a", "b.example")), MailParameters(requireTLS: true))),
        ("MAIL FROM:<a@b.example> requiretls", .mail(.mailbox(m("a", "b.example")), MailParameters(requireTLS: true))),
        ("MAIL FROM:<a@b.example> SIZE=10 REQUIRETLS BODY=8BITMIME", .mail(.mailbox(m("a", "b.example")), MailParameters(size: 10, body: .eightBitMIME, requireTLS: true))),
        ("MAIL FROM:<> REQUIRETLS", .mail(.null, MailParameters(requireTLS: true))),
        ("MAIL FROM:<@relay.example,@r2.example:a@b.example>", .mail(.mailbox(m("a", "b.example")), MailParameters())),
        ("MAIL FROM:<\"john doe\"@example.com>", .mail(.mailbox(m("john doe", "example.com")), MailParameters())),
        ("MAIL FROM:<\"a\\\"b\"@example.com>", .mail(.mailbox(m("a\"b", "example.com")), MailParameters())),
        ("MAIL FROM:<user@[192.0.2.1]>", .mail(.mailbox(Mailbox(localPart: "user", domain: .addressLiteral("192.0.2.1"))), MailParameters())),
        ("MAIL FROM:<user@[IPv6:2001:db8::1]>", .mail(.mailbox(Mailbox(localPart: "user", domain: .addressLiteral("IPv6:2001:db8::1"))), MailParameters())),
        ("MAIL FROM:<usér@bücher.example> SMTPUTF8", .mail(.mailbox(Mailbox(localPart: "usér", domain: .name(ascii: "xn--bcher-kva.example", display: "bücher.example"))), MailParameters(smtputf8: true))),
        ("RCPT TO:<b@example.com>", .rcpt(.mailbox(m("b", "example.com")))),
        ("RCPT TO:<Postmaster>", .rcpt(.postmaster)),
        ("RCPT TO:<postmaster>", .rcpt(.postmaster)),
        ("RCPT TO:<\"a@evil.example\"@example.com>", .rcpt(.mailbox(m("a@evil.example", "example.com")))),
        ("RCPT TO:<a%evil.example@example.com>", .rcpt(.mailbox(m("a%evil.example", "example.com")))),
        ("RCPT TO:<δοκιμή@παράδειγμα.δοκιμή>", .rcpt(.mailbox(Mailbox(localPart: "δοκιμή", domain: .name(ascii: "xn--hxajbheg2az3al.xn--jxalpdlp", display: "παράδειγμα.δοκιμή"))))),
        ("DATA", .data), ("data", .data), ("RSET", .rset), ("NOOP", .noop), ("NOOP anything", .noop),
        ("QUIT", .quit), ("VRFY bob", .vrfy("bob")), ("HELP", .help), ("HELP MAIL", .help),
        ("STARTTLS", .startTLS),
        ("AUTH PLAIN", .auth(mechanism: "PLAIN", initialResponse: nil)),
        ("auth plain AGRldgBzZWNyZXQ=", .auth(mechanism: "PLAIN", initialResponse: "AGRldgBzZWNyZXQ=")),
        ("AUTH LOGIN", .auth(mechanism: "LOGIN", initialResponse: nil)),
    ]

    static func m(_ local: String, _ domain: String) -> Mailbox {
        Mailbox(localPart: local, domain: .name(ascii: domain.lowercased(), display: domain))
    }

    @Test(arguments: valid)
    func parsesValidCommand(_ line: String, _ expected: SMTPCommand) throws {
        #expect(SMTPCommand.parse(Array(line.utf8)) == .success(expected))
    }

    /// Invalid lines and the exact reply code + enhanced status each must get.
    static let invalid: [(String, Int, String)] = [
        ("", 500, "5.5.1"),
        ("FOO", 500, "5.5.1"),
        ("EXPN list", 500, "5.5.1"),
        ("EHLO", 501, "5.5.4"),
        ("EHLO a b", 501, "5.5.4"),
        ("MAIL TO:<a@b.example>", 501, "5.1.7"),
        ("MAIL FROM:a@b.example", 501, "5.1.7"),
        ("MAIL FROM:<a@b.example", 501, "5.1.7"),
        ("MAIL FROM:<a@>", 501, "5.1.7"),
        ("MAIL FROM:<@b.example>", 501, "5.1.7"),
        ("MAIL FROM:<a..b@b.example>", 501, "5.1.7"),
        ("MAIL FROM:<.a@b.example>", 501, "5.1.7"),
        ("MAIL FROM:<a.@b.example>", 501, "5.1.7"),
        ("MAIL FROM:<a@-b.example>", 501, "5.1.7"),
        ("MAIL FROM:<a@b-.example>", 501, "5.1.7"),
        ("MAIL FROM:<a@b..example>", 501, "5.1.7"),
        ("MAIL FROM:<a@[300.1.1.1]>", 501, "5.1.7"),
        ("MAIL FROM:<a@[IPv6:zz::1]>", 501, "5.1.7"),
        ("MAIL FROM:<a b@c.example>", 501, "5.1.7"),
        ("MAIL FROM:<a@b.example> SIZE=abc", 501, "5.5.4"),
        ("MAIL FROM:<a@b.example> BODY=BINARYMIME", 555, "5.5.4"),
        ("MAIL FROM:<a@b.example> RET=FULL", 555, "5.5.4"),
        ("MAIL FROM:<a@b.example> REQUIRETLS=YES", 501, "5.5.4"),
        ("MAIL FROM:<a@b.example> REQUIRETLS=", 501, "5.5.4"),
        ("RCPT TO:<a@b.example> REQUIRETLS", 555, "5.5.4"),
        ("MAIL FROM:<usér@b.example>", 553, "5.6.7"),
        ("MAIL FROM:<a@bücher.example>", 553, "5.6.7"),
        ("MAIL FROM:<\(String(repeating: "a", count: 65))@b.example>", 501, "5.1.7"),
        ("RCPT TO:<\(String(repeating: "a", count: 64))@\(String(repeating: "b.", count: 120))example>", 501, "5.1.3"),
        ("RCPT TO:<a@b.example> NOTIFY=NEVER", 555, "5.5.4"),
        ("RCPT TO:a@b.example", 501, "5.1.3"),
        ("RCPT FROM:<a@b.example>", 501, "5.1.3"),
        ("RCPT TO:<a@b.example> x", 555, "5.5.4"),
        ("RCPT TO:<\"unterminated@b.example>", 501, "5.1.3"),
        ("RCPT TO:<a!b>", 501, "5.1.3"),
        ("DATA now", 501, "5.5.4"),
        ("QUIT now", 501, "5.5.4"),
        ("STARTTLS x", 501, "5.5.4"),
        ("AUTH", 501, "5.5.4"),
        ("AUTH PLAIN a b", 501, "5.5.4"),
        ("VRFY", 501, "5.5.4"),
    ]

    @Test(arguments: invalid)
    func rejectsInvalidCommand(_ line: String, _ code: Int, _ status: String) {
        guard case .failure(let failure) = SMTPCommand.parse(Array(line.utf8)) else {
            Issue.record("\(line) parsed but should fail")
            return
        }
        #expect(failure.reply.code == code, "\(line): \(failure.reply)")
        #expect(failure.reply.status?.description == status, "\(line): \(failure.reply)")
    }

    @Test(arguments: ["GET / HTTP/1.1", "POST /x HTTP/1.0", "CONNECT a:443 HTTP/1.1", "HEAD / HTTP/1.1"])
    func httpVerbsAreWrongProtocol(_ line: String) {
        guard case .failure(.wrongProtocol(let reply)) = SMTPCommand.parse(Array(line.utf8)) else {
            Issue.record("\(line) not recognised as HTTP")
            return
        }
        #expect(reply.code == 500)
    }

    @Test func nulByteIsRejected() {
        let line: [UInt8] = Array("MAIL FROM:<a@b".utf8) + [0] + Array(".example>".utf8)
        #expect(SMTPCommand.parse(line) == .failure(.reply(.c500NulByte)))
    }

    @Test func invalidUTF8IsRejected() {
        let line: [UInt8] = Array("MAIL FROM:<".utf8) + [0xFF, 0xFE] + Array("@b.example>".utf8)
        guard case .failure(let f) = SMTPCommand.parse(line) else { Issue.record("accepted"); return }
        #expect(f.reply.code == 500)
    }

    @Test func mailboxEncodingQuotesWhenNeeded() {
        #expect(Self.m("john doe", "example.com").description == "\"john doe\"@example.com")
        #expect(Self.m("a\"b", "example.com").description == "\"a\\\"b\"@example.com")
        #expect(Self.m("plain.name+tag", "example.com").description == "plain.name+tag@example.com")
    }
}

/// Domain-level IDNA on top of DNSCore's Punycode (whose own table tests live in DNSCoreTests).
struct IDNADomainTests {
    @Test func domains() {
        #expect(IDNA.domainToASCII("Bücher.Example") == "xn--bcher-kva.example")
        #expect(IDNA.domainToUnicode("xn--bcher-kva.example") == "bücher.example")
        #expect(IDNA.domainToASCII("plain.example") == "plain.example")
        #expect(IDNA.domainToASCII("παράδειγμα.δοκιμή") == "xn--hxajbheg2az3al.xn--jxalpdlp")
        #expect(IDNA.domainToASCII(String(repeating: "ü", count: 70) + ".example") == nil)
    }
}
