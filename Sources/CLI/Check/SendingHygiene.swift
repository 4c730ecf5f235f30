import Foundation
import MailStore

/// `apus check`'s sending-hygiene lines (issue 13): the last 7 days' hard-bounce and complaint rates of a
/// domain, from the event store, against the limits Gmail and Yahoo publish for bulk senders (spam
/// complaints under 0.1 %, never 0.3 %; bounce rates over a few percent get mail throttled or refused).
enum SendingHygiene {
    /// Complaint rate: ✓ below 0.1 %, ! from 0.1 %, ✗ from 0.3 %.
    static let complaintWarning = 0.001
    static let complaintProblem = 0.003
    /// Hard-bounce rate: ✓ below 2 %, ! from 2 %, ✗ from 5 %.
    static let bounceWarning = 0.02
    static let bounceProblem = 0.05

    static func findings(_ stats: SendingStats, domain: String) -> [CheckFinding] {
        guard stats.attempted > 0 else {
            return [.ok("hygiene", "no mail sent from \(domain) in the last 7 days: no bounce or complaint rate yet")]
        }
        let n = Double(stats.attempted)
        let bounce = Double(stats.bounced) / n, complaints = Double(stats.complained) / n
        func percent(_ x: Double) -> String { String(format: "%.2f %%", x * 100) }
        var out: [CheckFinding] = []
        let bounceLine = "bounces from \(domain), last 7 days: \(stats.bounced) of \(stats.attempted) recipients (\(percent(bounce)))"
        let bounceFix = "clean the list: remove addresses that bounce (apus suppression list \(domain)), send only to people who asked for the mail"
        if bounce >= bounceProblem { out.append(.problem("hygiene", bounceLine, fix: bounceFix)) }
        else if bounce >= bounceWarning { out.append(.warning("hygiene", bounceLine, fix: bounceFix)) }
        else { out.append(.ok("hygiene", bounceLine)) }
        let complaintLine = "spam complaints about \(domain), last 7 days: \(stats.complained) of \(stats.attempted) (\(percent(complaints)); Gmail wants under 0.10 %, never 0.30 %)"
        let complaintFix = "send with \"unsubscribe\": true (one-click) and only to people who asked; set [suppression] complaints_address and register it with Yahoo's and Microsoft's feedback loops"
        if complaints >= complaintProblem { out.append(.problem("hygiene", complaintLine, fix: complaintFix)) }
        else if complaints >= complaintWarning { out.append(.warning("hygiene", complaintLine, fix: complaintFix)) }
        else { out.append(.ok("hygiene", complaintLine)) }
        return out
    }

    /// The findings from `<data_dir>/apus.sqlite`, or one `!` when there is no store to read.
    static func check(dataDir: String, domain: String, now: Date = Date()) async -> [CheckFinding] {
        let path = "\(dataDir)/apus.sqlite"
        guard FileManager.default.fileExists(atPath: path), let store = try? SQLiteMailStore(path: path),
              let stats = try? await store.sendingStats(domain: domain, since: now.addingTimeInterval(-7 * 86_400)) else {
            return [.warning("hygiene", "no event store at \(path) (apus serve creates it): bounce and complaint rates not checked")]
        }
        return findings(stats, domain: domain)
    }
}
