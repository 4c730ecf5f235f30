import Foundation
import HTTPAPI
import MailMessage
import Testing

/// One-click unsubscribe tokens, webhook signatures and retry schedule, and the bounce classification that
/// feeds the suppression list: pure functions, as tables.
struct UnsubscribeAndSignatureTests {
    let links = UnsubscribeLinks(publicURL: "https://mx.example.com:8443/", secret: Array(repeating: 7, count: 32))

    @Test func aTokenNamesDomainAndRecipientAndSurvivesTheRoundTrip() throws {
        let token = links.token(domain: "Example.com", recipient: "Bob+news@x.test")
        let target = try #require(links.verify(token))
        #expect(target.domain == "example.com" && target.recipient == "Bob+news@x.test")
        #expect(links.url(domain: "example.com", recipient: "a@b.test").hasPrefix("https://mx.example.com:8443/unsubscribe/"))
    }

    @Test func everyOneCharacterChangeIsRefused() {
        let token = links.token(domain: "example.com", recipient: "bob@x.test")
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
        var chars = Array(token)
        for i in chars.indices {
            let original = chars[i]
            for replacement in alphabet.prefix(8) where replacement != original {
                chars[i] = replacement
                #expect(links.verify(String(chars)) == nil, "accepted \(String(chars))")
            }
            chars[i] = original
        }
        let other = UnsubscribeLinks(publicURL: "https://x", secret: Array(repeating: 8, count: 32))
        #expect(other.verify(token) == nil)
        for junk in ["", ".", "abc", "abc.def", token + ".x", String(token.dropLast())] {
            #expect(links.verify(junk) == nil)
        }
    }

    @Test func webhookSignatureVerifiesAndRejectsTamperingAndOldTimes() {
        let secret = Array("s3cret".utf8), body = Array("{\"id\":1}".utf8)
        let header = WebhookSignature.header(secret: secret, timestamp: 1_000, body: body)
        #expect(header.hasPrefix("t=1000,v1="))
        #expect(WebhookSignature.verify(header: header, secret: secret, body: body, now: 1_010))
        #expect(!WebhookSignature.verify(header: header, secret: secret, body: Array("{\"id\":2}".utf8), now: 1_010))
        #expect(!WebhookSignature.verify(header: header, secret: Array("other".utf8), body: body, now: 1_010))
        #expect(!WebhookSignature.verify(header: header, secret: secret, body: body, now: 2_000))
        // Known answer: HMAC-SHA256("s3cret", "1000.{\"id\":1}") computed with Python's hmac module.
        #expect(header == "t=1000,v1=a6a44636bcf5205dfe22dfad0f9bc8ae1f6cfe1750045ca32583ad27b80e9930")
    }

    @Test func webhookRetriesStartAt10sDoubleTo10MinutesAndStopAfter24h() {
        let policy = WebhookRetryPolicy(), created = Date(timeIntervalSince1970: 0)
        let intervals = (0..<8).map { policy.next(attempts: $0, created: created, now: created)!.timeIntervalSince(created) }
        #expect(intervals == [10, 20, 40, 80, 160, 320, 600, 600])
        #expect(policy.next(attempts: 3, created: created, now: created.addingTimeInterval(86_390)) == nil)
        #expect(policy.next(attempts: 3, created: created, now: created.addingTimeInterval(86_000)) != nil)
    }

    static let bounces: [(String?, String, BounceClassification)] = [
        ("5.1.1", "550 5.1.1 <a@x>: Recipient address rejected: User unknown", .mailboxGone),
        (nil, "550 5.1.1 The email account that you tried to reach does not exist.", .mailboxGone),
        (nil, "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", .mailboxGone),
        (nil, "554 5.2.1 mailbox disabled", .mailboxGone),
        (nil, "550 5.1.2 Bad destination system address", .mailboxGone),
        (nil, "550 No such user here", .mailboxGone),
        (nil, "552 5.2.2 Mailbox full", .mailboxFull),
        (nil, "550 5.7.1 Message rejected as spam", .policy),
        ("5.7.26", "550 5.7.26 Unauthenticated email from example.com is not accepted due to DMARC", .policy),
        (nil, "554 5.7.1 Service unavailable; client host blocked; user unknown", .policy),
        (nil, "421 4.7.28 rate limited", .policy),
        (nil, "451 4.2.1 mailbox busy", .other),
        (nil, "554 transaction failed", .other),
    ]

    @Test(arguments: bounces)
    func bounceClassification(status: String?, reply: String, expected: BounceClassification) {
        #expect(BounceClassification.classify(status: status, reply: reply) == expected)
    }
}
