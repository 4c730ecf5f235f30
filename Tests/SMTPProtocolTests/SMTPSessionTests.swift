import NIOCore
import Testing
@testable import SMTPProtocol

/// A policy for tests: one local domain with two users.
struct TestPolicy: SessionPolicy {
    var localDomain = "example.test"
    var users: Set<String> = ["dev", "bob"]

    func checkRecipient(_ recipient: ForwardPath, authenticatedUser: String?) -> SMTPReply? {
        guard case .mailbox(let m) = recipient else { return nil }
        guard m.domain.lookupKey == localDomain else {
            return authenticatedUser == nil ? .c550RelayDenied(m.domain.description) : nil
        }
        let base = String(m.localPart.lowercased().split(separator: "+").first ?? "")
        return users.contains(base) ? nil : .c550NoSuchUser(m.description)
    }

    func checkSender(_ sender: ReversePath, authenticatedUser: String?) -> SMTPReply? {
        guard let user = authenticatedUser, let m = sender.mailbox else { return nil }
        return "\(m.localPart)@\(m.domain.lookupKey)" == user ? nil : .c550SenderNotOwned(m.description)
    }
}

/// Drives a session with lines; collects the replies as `code status` strings.
struct SessionDriver {
    var session: SMTPSession
    var actions: [SessionAction] = []

    init(_ listener: ListenerKind = .mx, tls: Bool = true, maxRecipients: Int = 100, maxErrors: Int = 10) {
        session = SMTPSession(configuration: SessionConfiguration(
            hostname: "mx.example.test", listener: listener, tlsAvailable: tls,
            maxMessageBytes: 1000, maxRecipients: maxRecipients, maxErrors: maxErrors), policy: TestPolicy())
        actions = session.start()
    }

    /// Sends a line and returns the first reply as "CODE X.Y.Z" (or "CODE" when no enhanced code).
    @discardableResult
    mutating func send(_ line: String) -> String {
        actions = session.receive(line: ByteBuffer(string: line))
        return firstReply
    }

    var firstReply: String {
        for a in actions {
            if case .reply(let r) = a { return r.status.map { "\(r.code) \($0)" } ?? "\(r.code)" }
        }
        return "none"
    }

    var replyText: String {
        actions.compactMap { if case .reply(let r) = $0 { return r.wireText } else { return nil } }.joined()
    }
}

struct SMTPSessionTests {
    @Test func greetingAndEHLOBeforeTLS() {
        var d = SessionDriver()
        #expect(d.firstReply == "220")
        #expect(d.send("EHLO client.example") == "250")
        let text = d.replyText
        for cap in ["PIPELINING", "SIZE 1000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS"] {
            #expect(text.contains("250-\(cap)\r\n") || text.contains("250 \(cap)\r\n"), "missing \(cap)")
        }
        #expect(!text.contains("AUTH"))
    }

    @Test func ehloAfterTLSOffersAuthNotStartTLS() {
        var d = SessionDriver()
        d.send("EHLO c")
        #expect(d.send("STARTTLS") == "220 2.0.0")
        #expect(d.actions.contains(.startTLS))
        _ = d.session.tlsEstablished()
        #expect(d.send("MAIL FROM:<a@b.example>") == "503 5.5.1")   // state was reset: EHLO again
        d.send("EHLO c")
        #expect(d.replyText.contains("AUTH PLAIN LOGIN"))
        #expect(!d.replyText.contains("STARTTLS"))
        #expect(d.send("STARTTLS") == "503 5.5.1")
    }

    @Test func noStartTLSWithoutCertificate() {
        var d = SessionDriver(tls: false)
        d.send("EHLO c")
        #expect(!d.replyText.contains("STARTTLS"))
        #expect(d.send("STARTTLS") == "454 4.7.0")
    }

    @Test func authRefusedBeforeTLS() {
        var d = SessionDriver(.submission)
        d.send("EHLO c")
        #expect(d.send("AUTH PLAIN AGRldgBzZWNyZXQ=") == "538 5.7.11")
        #expect(d.send("MAIL FROM:<dev@example.test>") == "530 5.7.0")
    }

    @Test func submissionRequiresAuth() {
        var d = SessionDriver(.submissions)
        d.send("EHLO c")
        #expect(d.send("MAIL FROM:<dev@example.test>") == "530 5.7.0")
    }

    @Test func authPlainInitialResponse() {
        var d = SessionDriver(.submissions)
        d.send("EHLO c")
        d.send("AUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAc2VjcmV0")   // \0dev@example.test\0secret
        #expect(d.actions == [.verifyCredentials(username: "dev@example.test", password: "secret")])
        #expect(d.session.expectsSecret == false)
        d.actions = d.session.authChecked(.success(user: "dev@example.test"))
        #expect(d.firstReply == "235 2.7.0")
        #expect(d.send("MAIL FROM:<dev@example.test>") == "250 2.1.0")
        #expect(d.send("RCPT TO:<someone@elsewhere.example>") == "250 2.1.5")
    }

    @Test func authPlainChallenge() {
        var d = SessionDriver(.submissions)
        d.send("EHLO c")
        #expect(d.send("AUTH PLAIN") == "334")
        #expect(d.session.expectsSecret)
        #expect(d.session.loggable(ByteBuffer(string: "AGRldgBzZWNyZXQ=")) == "[redacted]")
        d.send("AGRldgBzZWNyZXQ=")
        #expect(d.actions == [.verifyCredentials(username: "dev", password: "secret")])
    }

    @Test func authLoginBothForms() {
        var d = SessionDriver(.submissions)
        d.send("EHLO c")
        d.send("AUTH LOGIN")
        #expect(d.replyText == "334 VXNlcm5hbWU6\r\n")
        d.send("ZGV2")                      // dev
        #expect(d.replyText == "334 UGFzc3dvcmQ6\r\n")
        d.send("c2VjcmV0")                  // secret
        #expect(d.actions == [.verifyCredentials(username: "dev", password: "secret")])
        d.actions = d.session.authChecked(.failure)
        #expect(d.firstReply == "535 5.7.8")

        var e = SessionDriver(.submissions)
        e.send("EHLO c")
        e.send("AUTH LOGIN ZGV2")
        #expect(e.replyText == "334 UGFzc3dvcmQ6\r\n")
        e.send("c2VjcmV0")
        #expect(e.actions == [.verifyCredentials(username: "dev", password: "secret")])
    }

    @Test func authCancelAndBadBase64() {
        var d = SessionDriver(.submissions)
        d.send("EHLO c")
        d.send("AUTH LOGIN")
        #expect(d.send("*") == "501 5.7.0")
        #expect(d.send("AUTH PLAIN !!!") == "501 5.5.2")
        #expect(d.send("AUTH CRAM-MD5") == "504 5.5.4")
        #expect(d.session.loggable(ByteBuffer(string: "AUTH PLAIN AGRldgBzZWNyZXQ=")) == "AUTH PLAIN [redacted]")
    }

    @Test func relayDeniedAndUnknownUserOnPort25() {
        var d = SessionDriver()
        d.send("EHLO c")
        #expect(d.send("RCPT TO:<dev@example.test>") == "503 5.5.1")
        #expect(d.send("MAIL FROM:<x@remote.example>") == "250 2.1.0")
        #expect(d.send("RCPT TO:<victim@elsewhere.example>") == "550 5.7.1")
        #expect(d.send("RCPT TO:<victim@[192.0.2.1]>") == "550 5.7.1")
        #expect(d.send("RCPT TO:<@example.test:victim@elsewhere.example>") == "550 5.7.1")
        #expect(d.send("RCPT TO:<\"victim@elsewhere.example\"@example.test>") == "550 5.1.1")
        #expect(d.send("RCPT TO:<victim%elsewhere.example@example.test>") == "550 5.1.1")
        #expect(d.send("RCPT TO:<nobody@example.test>") == "550 5.1.1")
        #expect(d.send("RCPT TO:<dev+tag@example.test>") == "250 2.1.5")
        #expect(d.send("RCPT TO:<Postmaster>") == "250 2.1.5")
        #expect(d.send("DATA") == "354")
        #expect(d.actions.contains(.receiveData(maxBytes: 1000)))
    }

    /// SIZE= goes to the DATA decoder as a hint for its first buffer; the limit stays the configured one.
    @Test func theDeclaredSizeIsPassedOnAsAHint() {
        var d = SessionDriver()
        d.send("EHLO c")
        #expect(d.send("MAIL FROM:<x@remote.example> SIZE=700") == "250 2.1.0")
        #expect(d.send("RCPT TO:<dev@example.test>") == "250 2.1.5")
        #expect(d.send("DATA") == "354")
        #expect(d.actions.contains(.receiveData(maxBytes: 1000, declaredSize: 700)))
    }

    @Test func tooManyRecipients() {
        var d = SessionDriver(maxRecipients: 2)
        d.send("EHLO c")
        d.send("MAIL FROM:<>")
        #expect(d.send("RCPT TO:<dev@example.test>") == "250 2.1.5")
        #expect(d.send("RCPT TO:<bob@example.test>") == "250 2.1.5")
        #expect(d.send("RCPT TO:<dev+2@example.test>") == "452 4.5.3")
    }

    @Test func dataOutcomes() {
        var d = SessionDriver()
        d.send("EHLO c")
        d.send("MAIL FROM:<a@b.example> SIZE=2000")
        #expect(d.firstReply == "552 5.3.4")
        d.send("MAIL FROM:<a@b.example>")
        #expect(d.send("DATA") == "554 5.5.1")          // no valid recipients
        d.send("RCPT TO:<dev@example.test>")
        d.send("DATA")
        d.actions = d.session.dataReceived(.init(message: ByteBuffer(), size: 2000, oversized: true, violation: nil))
        #expect(d.firstReply == "552 5.3.4")
        #expect(d.send("NOOP") == "250 2.0.0")
        d.send("MAIL FROM:<a@b.example>")
        d.send("RCPT TO:<dev@example.test>")
        d.send("DATA")
        d.actions = d.session.dataReceived(.init(message: ByteBuffer(string: "x"), size: 1, oversized: false, violation: .bareLF))
        #expect(d.firstReply == "550 5.5.2")
        d.send("MAIL FROM:<>")
        d.send("RCPT TO:<dev@example.test>")
        d.send("DATA")
        d.actions = d.session.dataReceived(.init(message: ByteBuffer(string: "Subject: hi\r\n\r\nx\r\n"), size: 18, oversized: false, violation: nil))
        guard case .enqueue(let env, let msg) = d.actions.first else { Issue.record("no enqueue"); return }
        #expect(env.mailFrom == .null)
        #expect(env.recipients.count == 1)
        #expect(env.protocolName == "ESMTP")
        #expect(String(buffer: msg) == "Subject: hi\r\n\r\nx\r\n")
        d.actions = d.session.enqueued(id: "abc")
        #expect(d.replyText == "250 2.0.0 Ok: queued as abc\r\n")
    }

    @Test func senderMustBeOwnedWhenAuthenticated() {
        var d = SessionDriver(.submissions)
        d.send("EHLO c")
        d.send("AUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAc2VjcmV0")
        d.actions = d.session.authChecked(.success(user: "dev@example.test"))
        #expect(d.send("MAIL FROM:<bob@example.test>") == "550 5.7.1")
        #expect(d.send("MAIL FROM:<dev@example.test>") == "250 2.1.0")
    }

    @Test func tooManyErrorsCloses() {
        var d = SessionDriver(maxErrors: 3)
        d.send("BAD1")
        d.send("BAD2")
        d.send("BAD3")
        #expect(d.replyText.contains("421 4.7.0"))
        #expect(d.actions.last == .close)
        #expect(d.session.isClosed)
    }

    @Test func httpRequestCloses() {
        var d = SessionDriver()
        d.send("GET / HTTP/1.1")
        #expect(d.firstReply == "500 5.5.1")
        #expect(d.actions.last == .close)
    }

    @Test func smtputf8RecipientNeedsParameter() {
        var d = SessionDriver()
        d.send("EHLO c")
        d.send("MAIL FROM:<a@b.example>")
        #expect(d.send("RCPT TO:<δοκιμή@example.test>") == "553 5.6.7")
    }

    @Test func quitAndSimpleCommands() {
        var d = SessionDriver()
        #expect(d.send("NOOP") == "250 2.0.0")
        #expect(d.send("HELP") == "214 2.0.0")
        #expect(d.send("VRFY dev") == "252 2.5.2")
        #expect(d.send("RSET") == "250 2.0.0")
        #expect(d.send("HELO c") == "250")
        #expect(d.send("QUIT") == "221 2.0.0")
        #expect(d.actions.last == .close)
    }

    @Test func lineTooLongInAuthExchange() {
        var d = SessionDriver(.submissions)
        d.send("EHLO c")
        d.send("AUTH PLAIN")
        d.actions = d.session.lineTooLong()
        #expect(d.firstReply == "500 5.5.6")
        d.actions = d.session.lineTooLong()
        #expect(d.firstReply == "500 5.5.2")
    }

    @Test func mailParametersNeedEHLO() {
        var d = SessionDriver()
        d.send("HELO c")
        #expect(d.send("MAIL FROM:<a@b.example> SIZE=10") == "555 5.5.4")
        #expect(d.send("MAIL FROM:<a@b.example>") == "250 2.1.0")
    }
}
