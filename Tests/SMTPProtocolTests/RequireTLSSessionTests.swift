import NIOCore
import Testing
@testable import SMTPProtocol

/// REQUIRETLS (RFC 8689) in the session: advertised only under TLS, accepted only under TLS, carried in the
/// envelope. Each row: listener, whether STARTTLS ran, the MAIL line, and the reply it must get.
struct RequireTLSSessionTests {
    struct Case: Sendable, CustomStringConvertible {
        var listener: ListenerKind
        var tls: Bool
        var mail: String
        var reply: String
        var description: String { "\(listener) tls=\(tls) \(mail) → \(reply)" }
    }

    static let cases: [Case] = [
        Case(listener: .mx, tls: false, mail: "MAIL FROM:<a@b.example> REQUIRETLS", reply: "530 5.7.10"),
        Case(listener: .mx, tls: true, mail: "MAIL FROM:<a@b.example> REQUIRETLS", reply: "250 2.1.0"),
        Case(listener: .mx, tls: true, mail: "MAIL FROM:<a@b.example> REQUIRETLS=1", reply: "501 5.5.4"),
        Case(listener: .mx, tls: false, mail: "MAIL FROM:<a@b.example>", reply: "250 2.1.0"),
        Case(listener: .submissions, tls: true, mail: "MAIL FROM:<dev@example.test> REQUIRETLS", reply: "250 2.1.0"),
    ]

    @Test(arguments: cases)
    func mailParameter(_ c: Case) {
        var d = SessionDriver(c.listener)
        if c.tls {
            if c.listener == .submissions {
                _ = d.session.tlsEstablished()
            } else {
                d.send("EHLO c")
                d.send("STARTTLS")
                _ = d.session.tlsEstablished()
            }
        }
        d.send("EHLO c")
        if c.listener.requiresAuth { d.send("AUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAc2VjcmV0") }
        if case .verifyCredentials = d.actions.last { d.actions = d.session.authChecked(.success(user: "dev@example.test")) }
        #expect(d.send(c.mail) == c.reply, "\(c)")
    }

    @Test func advertisedOnlyAfterTLS() {
        var d = SessionDriver()
        d.send("EHLO c")
        #expect(!d.replyText.contains("REQUIRETLS"))
        d.send("STARTTLS")
        _ = d.session.tlsEstablished()
        d.send("EHLO c")
        #expect(d.replyText.contains("250-REQUIRETLS\r\n"))
    }

    @Test func heloSessionCannotUseIt() {
        var d = SessionDriver()
        d.send("EHLO c")
        d.send("STARTTLS")
        _ = d.session.tlsEstablished()
        d.send("HELO c")
        #expect(d.send("MAIL FROM:<a@b.example> REQUIRETLS") == "555 5.5.4")
    }

    @Test func flagReachesTheEnvelope() {
        var d = SessionDriver()
        d.send("EHLO c")
        d.send("STARTTLS")
        _ = d.session.tlsEstablished()
        d.send("EHLO c")
        d.send("MAIL FROM:<a@b.example> REQUIRETLS")
        d.send("RCPT TO:<bob@example.test>")
        d.send("DATA")
        let actions = d.session.dataReceived(DataDecoder.Outcome(message: .init(), size: 0, oversized: false, violation: nil))
        guard case .enqueue(let envelope, _) = actions.first else {
            Issue.record("no enqueue: \(actions)")
            return
        }
        #expect(envelope.parameters.requireTLS)
    }
}
