import Delivery
import SMTPProtocol
import Testing

/// Every code of the diagnosis table, as the receivers send them, to the sentence Apus shows.
@Suite struct DiagnosisTests {
    struct Case: Sendable, CustomStringConvertible {
        var status: String
        var reply: String
        var provider: String?
        var expected: String
        var description: String { "\(status) \(reply.prefix(30))" }
    }

    static let context = Diagnosis.Context(hostname: "mx.example.com", sourceAddress: "203.0.113.7")

    static let cases: [Case] = [
        .init(status: "4.7.23", reply: "421-4.7.23 The sending IP address for this message doesn't have a PTR record. gsmtp",
              expected: "publish PTR 203.0.113.7 → mx.example.com"),
        .init(status: "5.7.25", reply: "550-5.7.25 The IP address sending this message does not have a PTR record setup. gsmtp",
              expected: "publish PTR 203.0.113.7 → mx.example.com"),
        .init(status: "4.7.26", reply: "421-4.7.26 This mail has been rate limited because it is unauthenticated. gsmtp",
              expected: "rate-limits unauthenticated mail"),
        .init(status: "5.7.26", reply: "550-5.7.26 Unauthenticated email from example.com is not accepted. gsmtp",
              expected: "passed neither SPF nor DKIM"),
        .init(status: "4.7.27", reply: "421-4.7.27 Your email has been rate limited because SPF authentication didn't pass. gsmtp",
              expected: "ip4:203.0.113.7"),
        .init(status: "5.7.27", reply: "550-5.7.27 SPF did not pass. gsmtp", expected: "refused mail whose SPF did not pass"),
        .init(status: "4.7.28", reply: "421-4.7.28 Gmail has detected an unusual rate of mail. gsmtp",
              expected: "halved its pace to Gmail"),
        .init(status: "5.7.28", reply: "550-5.7.28 There is an unusual rate of unsolicited mail. gsmtp",
              expected: "blocks this IP or domain"),
        .init(status: "4.7.29", reply: "421-4.7.29 Your email has been rate limited because it wasn't sent over TLS. gsmtp",
              expected: "not sent over TLS"),
        .init(status: "5.7.29", reply: "550-5.7.29 TLS required. gsmtp", expected: "refused mail not sent over TLS"),
        .init(status: "4.7.30", reply: "421-4.7.30 DKIM authentication didn't pass. gsmtp", expected: "apus dkim keygen"),
        .init(status: "5.7.30", reply: "550-5.7.30 This mail has been blocked because DKIM does not pass. gsmtp",
              expected: "refused mail without a passing DKIM signature"),
        .init(status: "4.7.31", reply: "421-4.7.31 DMARC policy missing. gsmtp", expected: "_dmarc.DOMAIN"),
        .init(status: "4.7.32", reply: "421-4.7.32 From: header isn't aligned. gsmtp", expected: "aligned with neither"),
        .init(status: "5.7.1", reply: "550-5.7.1 Our system has detected an unusual rate of unsolicited mail. gsmtp",
              expected: "Gmail blocks this IP for an unusual rate of unsolicited mail"),
        .init(status: "5.7.515", reply: "550 5.7.515 Access denied, sending domain example.com doesn't meet the required authentication level.",
              expected: "Outlook.com requires SPF, DKIM and DMARC"),
        .init(status: "5.7.708", reply: "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
              expected: "refuses mail from 203.0.113.7"),
        .init(status: "5.7.1", reply: "550 5.7.1 Unfortunately, messages from [203.0.113.7] weren't sent. (S3140) [x.outlook.com]",
              expected: "https://sender.office.com"),
        .init(status: "4.7.650", reply: "451 4.7.650 The mail server [203.0.113.7] has been temporarily rate limited due to IP reputation.",
              expected: "halved its pace to Outlook"),
        .init(status: "4.7.0", reply: "421 4.7.0 [TSS04] Messages from 203.0.113.7 temporarily deferred due to unexpected volume or user complaints",
              expected: "halved its pace to Yahoo"),
        .init(status: "4.7.0", reply: "421 4.7.0 [TSS09] All messages from 203.0.113.7 will be permanently deferred",
              expected: "retrying does not help"),
        .init(status: "5.7.9", reply: "554 5.7.9 Message not accepted for policy reasons. [PH01]", expected: "Yahoo refused the message"),
        .init(status: "4.7.8", reply: "smarthost relay.test [127.0.0.1] refused the login of dev: 535 5.7.8 bad credentials",
              expected: "relay_auth_file"),
        .init(status: "5.1.1", reply: "550 5.1.1 <x@y>: no such user", expected: "mailbox does not exist"),
        .init(status: "5.2.2", reply: "552 5.2.2 mailbox full", expected: "mailbox is full"),
        .init(status: "5.7.1", reply: "550 5.7.1 rejected by policy", expected: "refused the message by its policy"),
    ]

    @Test(arguments: cases)
    func sentence(c: Case) throws {
        let status = try #require(EnhancedStatusCode(parsing: c.status[...]))
        let sentence = Diagnosis.explain(status: status, reply: c.reply, context: Self.context)
        #expect(sentence?.contains(c.expected) == true, "\(sentence ?? "nil")")
    }

    /// A Gmail code from a server that is not Gmail is not explained as Gmail's; unknown codes say nothing.
    @Test func providerRowsNeedTheProvider() {
        let status = EnhancedStatusCode(4, 7, 28)
        #expect(Diagnosis.explain(status: status, reply: "421 4.7.28 slow down", context: Self.context) == nil)
        var fromGmailMX = Self.context
        fromGmailMX.provider = "gmail"
        #expect(Diagnosis.explain(status: status, reply: "421 4.7.28 slow down", context: fromGmailMX) != nil)
        #expect(Diagnosis.explain(status: EnhancedStatusCode(4, 3, 0), reply: "451 4.3.0 later", context: Self.context) == nil)
    }
}
