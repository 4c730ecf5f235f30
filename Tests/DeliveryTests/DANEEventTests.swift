import Delivery
import MailQueue
import Testing

/// The runner passes a remote delivery's TLS outcome (`dane=verified` included) to its observer, which
/// the server turns into the `delivered` event's `detail.tls`.
@Suite struct DANEEventTests {
    @Test func sentEventCarriesTLS() async throws {
        let s = QueueRunnerTests.Setup(remote: { address, _ in
            RecipientResult(address: address, outcome: .sent, status: .init(2, 0, 0), reason: "",
                            remoteMTA: "mx-a.dane.test [127.0.0.21]", tls: "TLSv1.3 dane=verified")
        })
        let id = try await s.enqueue([QueueRunnerTests.rcpt("bob@a.dane.test"), QueueRunnerTests.rcpt("user@local.test")])
        await s.runner.process(id)
        let events = s.events.list.withLock { $0 }
        #expect(events.map(\.result) == [.sent, .sent])
        #expect(events.first { $0.recipient == "bob@a.dane.test" }?.tls == "TLSv1.3 dane=verified")
        #expect(events.first { $0.recipient == "user@local.test" }?.tls == nil)
    }
}
