import Foundation
import Testing

extension APIEndToEndTests {
    /// `"require_tls": true` (RFC 8689 REQUIRETLS): dest.test's MX offers no STARTTLS, so the message bounces
    /// (5.7.30) at the first attempt and never reaches it; the same message without the flag is delivered.
    @Test func requireTLSBouncesWhenTheMXHasNoTLS() async throws {
        let s = try await Setup()
        do {
            let strict = try s.send(#"{"from":"app@local.test","to":["secret@dest.test"],"subject":"s","text":"x","require_tls":true}"#)
            #expect(strict.status == 202, "\(strict.body)")
            let id = try #require(strict.json["id"] as? String)
            #expect(await DeliveryHarness.waitUntil(10) { (try? s.status(id)) == ["bounced"] })
            let plain = try s.send(#"{"from":"app@local.test","to":["plain@dest.test"],"subject":"p","text":"x"}"#)
            #expect(plain.status == 202, "\(plain.body)")
            #expect(await DeliveryHarness.waitUntil(10) { s.mx.received.count == 1 })
            #expect(s.mx.received.map(\.recipients) == [["plain@dest.test"]])
            let result = try APITestSupport.curl("GET", s.base + "/v1/messages/\(id)", key: s.key)
            let lastReply = (result.json["recipients"] as? [[String: Any]])?.first?["last_reply"] as? String
            #expect(lastReply?.contains("REQUIRETLS") == true, "\(result.body)")
        }
        await s.finish()
    }
}
