import Delivery
@testable import MailServer
import Testing

/// `/metrics` per provider: deliveries by result, and the pace allowed now (halved after a rate limit).
@Suite struct ProviderMetricsTests {
    @Test func deliveriesAndPacePerProvider() {
        let metrics = ServerMetrics()
        let gmail = Provider(name: "gmail", mx: ["*.google.com"], maxConnections: 5, maxMessagesPerMinute: 120)
        let yahoo = Provider(name: "yahoo", mx: ["*.yahoodns.net"], maxConnections: 4, maxMessagesPerMinute: 60)
        let pacer = ProviderPacer()
        pacer.rateLimited(gmail)
        metrics.setPaceSource { pacer.currentPace(of: [gmail, yahoo]) }
        for result in [DeliveryEvent.Result.sent, .sent, .deferred] {
            metrics.delivery(DeliveryEvent(result: result, kind: .remote, messageID: "0000000000000001",
                                           recipient: "a@gmail.com", provider: "gmail"))
        }
        metrics.delivery(DeliveryEvent(result: .sent, kind: .local, messageID: "0000000000000002", recipient: "b@local.test"))
        let text = metrics.render()
        for line in [#"apus_provider_deliveries_total{provider="gmail",result="sent"} 2"#,
                     #"apus_provider_deliveries_total{provider="gmail",result="deferred"} 1"#,
                     #"apus_provider_deliveries_total{provider="yahoo",result="sent"} 0"#,
                     #"apus_provider_pace{provider="gmail"} 60.0"#,
                     #"apus_provider_pace{provider="yahoo"} 60.0"#,
                     // Events with their message ids and recipients still count under (result, kind) alone.
                     #"apus_deliveries_total{result="sent",kind="remote"} 2"#,
                     #"apus_deliveries_total{result="sent",kind="local"} 1"#] {
            #expect(text.contains(line + "\n"), "\(line)\n\(text)")
        }
    }
}
