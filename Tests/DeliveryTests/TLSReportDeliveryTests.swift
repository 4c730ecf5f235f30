import Delivery
import Foundation
import Logging
import MailQueue
import MailStore
import NIOCore
import Testing

/// TLS-RPT end to end on loopback: real deliveries counted by the courier, then the report run queues one
/// report per domain that publishes `_smtp._tls`, delivered here to a local mailbox and read back with
/// Python (MIME, base64, gzip, JSON).
///
/// - ok-rpt.test: its MX (a second Apus) completes STARTTLS with a trusted certificate; no MTA-STS:
///   `no-policy-found`, two successful sessions.
/// - sts-rpt.test: MTA-STS `enforce`, and its MX offers no STARTTLS: `sts` with the policy's lines, one
///   `starttls-not-supported` failure naming the MX and its address; the mail itself stays deferred.
/// - none-rpt.test: no `_smtp._tls` record: no report, and its counters are dropped.
@Suite struct TLSReportDeliveryTests {
    static let reader = #"""
import email, gzip, json, sys
msg = email.message_from_bytes(sys.stdin.buffer.read())
out = {"report_type": msg.get_param("report-type"), "domain": msg["TLS-Report-Domain"],
       "submitter": msg["TLS-Report-Submitter"], "parts": []}
for part in msg.get_payload():
    out["parts"].append(part.get_content_type())
    if part.get_content_type() == "application/tlsrpt+gzip":
        out["filename"] = part.get_filename()
        out["report"] = json.loads(gzip.decompress(part.get_payload(decode=True)))
print(json.dumps(out))
"""#

    static func read(_ message: String) throws -> [String: Any] {
        try PythonEmail.run(reader, on: message)
    }

    @Test func dailyReportCountsSuccessesAndFailures() async throws {
        let dir = NSTemporaryDirectory() + "apus-tlsrpt-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (https, policyCA) = try await MTASTSTests.policyServer(
            ip: "127.0.0.73", hostname: "mta-sts.sts-rpt.test",
            body: "version: STSv1\nmode: enforce\nmx: mx.sts-rpt.test\nmax_age: 86400\n", directory: dir)
        let rua = "v=TLSRPTv1; rua=mailto:tlsrpt@local.test"
        let dnsmasq = try await Dnsmasq.start([
            "--mx-host=ok-rpt.test,mx.ok-rpt.test,10", "--host-record=mx.ok-rpt.test,127.0.0.71",
            "--txt-record=_smtp._tls.ok-rpt.test,\(rua)",
            "--mx-host=sts-rpt.test,mx.sts-rpt.test,10", "--host-record=mx.sts-rpt.test,127.0.0.72",
            "--host-record=mta-sts.sts-rpt.test,127.0.0.73", "--txt-record=_mta-sts.sts-rpt.test,v=STSv1; id=1",
            "--txt-record=_smtp._tls.sts-rpt.test,\(rua)",
            "--mx-host=none-rpt.test,mx.ok-rpt.test,10",
        ])
        defer { dnsmasq.stop() }
        let resolver = dnsmasq.resolver(timeout: .seconds(1))
        let peer = try await TLSDeliveryTests.Peer(ip: "127.0.0.71", dns: dnsmasq.address, domain: "ok-rpt.test")
        defer { peer.remove() }
        let plainMX = try await FakeMX.start(ip: "127.0.0.72", port: peer.port)
        let bothCAs = dir + "/both.pem"
        try (try String(contentsOfFile: policyCA, encoding: .utf8) + String(contentsOfFile: peer.caFile, encoding: .utf8))
            .write(toFile: bothCAs, atomically: true, encoding: .utf8)

        let store = try SQLiteMailStore(path: dir + "/apus.sqlite")
        let recorder = TLSReportRecorder(store: store, logger: DeliveryHarness.logger)
        // One attempt each (the next retry is an hour away); no connection reuse, so each message is a session.
        let harness = try DeliveryHarness(dns: resolver, port: peer.port, caFile: bothCAs,
                                          schedule: RetrySchedule(delays: [.seconds(3600)], giveUpAfter: .seconds(7200)),
                                          reuseConnections: false, mtaSTSPort: https.localAddress!.port!, tlsReports: recorder)
        try await harness.enqueue(from: "a@local.test", to: ["bob@ok-rpt.test"])
        try await harness.enqueue(from: "a@local.test", to: ["bob@ok-rpt.test"])
        let deferred = try await harness.enqueue(from: "a@local.test", to: ["x@sts-rpt.test"])
        // The peer refuses none-rpt.test (not its domain): a bounce, but the TLS session counted as a success.
        let refused = try await harness.enqueue(from: "a@local.test", to: ["bob@none-rpt.test"])
        #expect(await DeliveryHarness.waitUntil(20) {
            let stsTried = await harness.meta(deferred)?.recipients.first?.attempts == 1
            let refusedDone = await harness.meta(refused) == nil
            return peer.mailbox("bob").count == 2 && stsTried && refusedDone
        })
        #expect(plainMX.received.isEmpty)   // enforce: never sent in plaintext

        let sender = TLSReportSender(
            settings: .init(hostname: "mx.local.test", fromAddress: "noreply-tlsrpt@local.test", contact: "postmaster@local.test"),
            recorder: recorder, store: store, dns: resolver, spool: harness.spool,
            router: Router(isLocalDomain: { $0 == "local.test" }), queued: { harness.wake.yield($0) },
            logger: DeliveryHarness.logger)
        let ids = await sender.send(through: TLSReportRecorder.day(Date()), early: true)
        #expect(ids.count == 2)
        #expect(await DeliveryHarness.waitUntil(10) { harness.maildir("tlsrpt").count == 2 })

        var byDomain: [String: [String: Any]] = [:]
        for message in harness.maildir("tlsrpt") {
            let parsed = try Self.read(message)
            #expect(parsed["report_type"] as? String == "tlsrpt")
            #expect(parsed["submitter"] as? String == "mx.local.test")
            #expect(parsed["parts"] as? [String] == ["text/plain", "application/tlsrpt+gzip"])
            if let domain = parsed["domain"] as? String { byDomain[domain] = parsed }
        }
        #expect(Set(byDomain.keys) == ["ok-rpt.test", "sts-rpt.test"])

        let ok = try #require(byDomain["ok-rpt.test"])
        #expect((ok["filename"] as? String)?.hasPrefix("mx.local.test!ok-rpt.test!") == true)
        #expect((ok["filename"] as? String)?.hasSuffix(".json.gz") == true)
        let okReport = try #require(ok["report"] as? [String: Any])
        #expect(okReport["organization-name"] as? String == "mx.local.test")
        let okPolicies = try #require(okReport["policies"] as? [[String: Any]])
        #expect(okPolicies.count == 1)
        #expect((okPolicies[0]["policy"] as? [String: Any])?["policy-type"] as? String == "no-policy-found")
        #expect((okPolicies[0]["summary"] as? [String: Int]) == ["total-successful-session-count": 2, "total-failure-session-count": 0])

        let sts = try #require((byDomain["sts-rpt.test"]?["report"] as? [String: Any])?["policies"] as? [[String: Any]])
        #expect(sts.count == 1)
        let policy = try #require(sts[0]["policy"] as? [String: Any])
        #expect(policy["policy-type"] as? String == "sts")
        #expect(policy["policy-string"] as? [String] == ["version: STSv1", "mode: enforce", "mx: mx.sts-rpt.test", "max_age: 86400"])
        #expect(policy["mx-host"] as? [String] == ["mx.sts-rpt.test"])
        #expect((sts[0]["summary"] as? [String: Int]) == ["total-successful-session-count": 0, "total-failure-session-count": 1])
        let failure = try #require((sts[0]["failure-details"] as? [[String: Any]])?.first)
        #expect(failure["result-type"] as? String == "starttls-not-supported")
        #expect(failure["receiving-mx-hostname"] as? String == "mx.sts-rpt.test")
        #expect(failure["receiving-ip"] as? String == "127.0.0.72")
        #expect(failure["sending-mta-ip"] as? String == "127.0.0.1")
        #expect(failure["failed-session-count"] as? Int == 1)

        // Everything reported (or not wanted) is gone from the store; the report mail itself was not counted.
        #expect(try await store.tlsResults(through: TLSReportRecorder.day(Date())).isEmpty)

        await harness.stop()
        await peer.stop()
        await plainMX.stop()
        try? await https.close()
    }
}
