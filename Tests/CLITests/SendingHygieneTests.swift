@testable import CLI
import Foundation
import MailStore
import Testing

/// `apus check`'s bounce and complaint rates against Gmail's published limits, as a table, and read from a
/// real event store.
struct SendingHygieneTests {
    static let cases: [(SendingStats, [CheckFinding.Status])] = [
        (SendingStats(attempted: 1000, bounced: 5, complained: 0), [.ok, .ok]),
        (SendingStats(attempted: 1000, bounced: 20, complained: 1), [.warning, .warning]),
        (SendingStats(attempted: 1000, bounced: 60, complained: 3), [.problem, .problem]),
        (SendingStats(attempted: 10_000, bounced: 199, complained: 9), [.ok, .ok]),
        (SendingStats(attempted: 10_000, bounced: 499, complained: 29), [.warning, .warning]),
    ]

    @Test(arguments: cases)
    func thresholds(stats: SendingStats, expected: [CheckFinding.Status]) {
        let findings = SendingHygiene.findings(stats, domain: "shop.example")
        #expect(findings.map(\.status) == expected)
        #expect(findings.allSatisfy { $0.status == .ok || $0.fix != nil })
    }

    @Test func nothingSentIsOneOkLine() {
        #expect(SendingHygiene.findings(SendingStats(attempted: 0, bounced: 0, complained: 0), domain: "x").map(\.status) == [.ok])
    }

    @Test func readsTheLastSevenDaysFromTheStore() async throws {
        let dir = NSTemporaryDirectory() + "apus-hygiene-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteMailStore(path: dir + "/apus.sqlite")
        let now = Date()
        var events: [NewEvent] = []
        for i in 0..<90 { events.append(NewEvent(type: .delivered, time: now, messageID: "m\(i)", recipient: "r\(i)@x.test", domain: "shop.example")) }
        for i in 0..<10 { events.append(NewEvent(type: .bounced, time: now, messageID: "b\(i)", recipient: "g\(i)@x.test", domain: "shop.example")) }
        // Older than 7 days, and another domain: not counted.
        events.append(NewEvent(type: .bounced, time: now.addingTimeInterval(-8 * 86_400), messageID: "old", recipient: "o@x.test", domain: "shop.example"))
        events.append(NewEvent(type: .bounced, time: now, messageID: "other", recipient: "o@x.test", domain: "other.example"))
        _ = try await store.record(events)
        let findings = await SendingHygiene.check(dataDir: dir, domain: "shop.example", now: now)
        #expect(findings.first?.status == .problem)
        #expect(findings.first?.message.contains("10 of 100 recipients (10.00 %)") == true)
        let missing = await SendingHygiene.check(dataDir: dir + "/nope", domain: "shop.example")
        #expect(missing.map(\.status) == [.warning])
    }
}
