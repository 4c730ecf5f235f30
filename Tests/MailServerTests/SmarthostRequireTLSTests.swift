import Foundation
import MailQueue
import Testing

extension SmarthostTests {
    /// REQUIRETLS (RFC 8689) through the smarthost: the relay (an Apus, verified TLS, advertising REQUIRETLS)
    /// gets `MAIL FROM:<…> REQUIRETLS` and keeps the flag in its own queue file; ordinary mail stays unflagged.
    @Test(arguments: [true, false])
    func requireTLSReachesTheRelay(requireTLS: Bool) async throws {
        let (sender, relay) = try await Self.pair(tls: "starttls")
        _ = try await Self.enqueue(sender, requireTLS: requireTLS)
        #expect(await Self.waitUntil { sender.queueCount() == 0 && relay.queueCount() == 1 })
        let relayed = try #require(try await FileSpool(directory: relay.dataDirectory + "/queue").list().first)
        #expect(relayed.requiresTLS == requireTLS)
        await sender.stop()
        await relay.stop()
    }
}
