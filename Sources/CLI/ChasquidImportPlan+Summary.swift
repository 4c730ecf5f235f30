import Chasquid
import Foundation

/// What `apus import chasquid` prints: a table of what came from where and what became of it, the notes
/// (assumptions to check, things left behind), and the exact next steps.
extension ChasquidImportPlan {
    func summary(dryRun: Bool, force: Bool, queued: Int? = nil) -> String {
        var table: [[String]] = [["what", "chasquid", "apus", "result"]]
        for row in rows {
            table.append([row.what, row.from, row.to, row.result ?? result(of: row, dryRun: dryRun, force: force)])
        }
        table.append(["queue", "\(queue.directory) (\(queue.found))", "\(queue.spoolDirectory)", queueResult(dryRun: dryRun, queued: queued)])
        var out = "apus import chasquid: \(source) → \(configDirectory)\(dryRun ? " (dry run: nothing written)" : "")\n\n"
        let widths = (0..<4).map { column in table.map { $0[column].count }.max() ?? 0 }
        for line in table {
            out += "  " + line.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces + "\n"
        }
        let assumed = notes.filter { $0.kind == .assumed }, left = notes.filter { $0.kind == .notImported }
        if !assumed.isEmpty { out += "\nAssumed (check these):\n" + assumed.map { "  - \($0)\n" }.joined() }
        if !left.isEmpty { out += "\nNot imported:\n" + left.map { "  - \($0)\n" }.joined() }
        return out + nextSteps(dryRun: dryRun)
    }

    func result(of row: Row, dryRun: Bool, force: Bool) -> String {
        let statuses = files.filter { row.files.contains($0.path) }.map(\.status)
        if statuses.contains(.differs) {
            return dryRun && !force ? "exists with other contents (--force replaces it)" : (dryRun ? "would replace" : "replaced")
        }
        if statuses.allSatisfy({ $0 == .unchanged }) { return "unchanged" }
        return dryRun ? "would create" : "created"
    }

    func queueResult(dryRun: Bool, queued: Int?) -> String {
        let recipients = queue.items.reduce(0) { $0 + $1.meta.recipients.count }
        var parts = ["\(dryRun ? "would import" : "imported") \(queued ?? queue.items.count) (\(recipients) recipients pending)"]
        if queue.alreadyImported > 0 { parts.append("\(queue.alreadyImported) already imported") }
        if queue.finished > 0 { parts.append("\(queue.finished) with nothing pending") }
        return parts.joined(separator: ", ")
    }

    func nextSteps(dryRun: Bool) -> String {
        let config = configDirectory == "/etc/apus" ? "" : " --config \(configDirectory)"
        var out = "\nNext steps:\n"
        if dryRun { out += "  0. Run this again without --dry-run.\n" }
        out += """
              1. Stop chasquid and keep it stopped (it must not deliver what is now in Apus's queue):
                   systemctl disable --now chasquid.service chasquid-smtp.socket chasquid-submission.socket chasquid-submission_tls.socket
                 If it ran during this import, run `apus import chasquid` again now: only new queue items are added.
              2. Check the configuration:   apus config check\(config)
              3. Start Apus:                systemctl enable --now apus   (or: apus serve\(config))\(ownership)
              4. Check each domain:         \(domains.isEmpty ? "apus check DOMAIN" : domains.map { "apus check \($0)\(config)" }.joined(separator: "; "))
            The DNS stays as it is: the MX, SPF and DMARC records and the DKIM selectors' TXT records \
            (\(dkimSelectors)) keep working.

            """
        return out
    }

    /// Files written as root into the data directory must belong to the server's user (docs/install.md).
    var ownership: String {
        guard geteuid() == 0, !queue.items.isEmpty else { return "" }
        return "\n     The server reads its queue as the user it runs as: chown -R apus:apus \(queue.dataDirectory) (docs/install.md)."
    }

    var dkimSelectors: String {
        let names = rows.filter { $0.what.hasPrefix("DKIM key ") }.map { String($0.what.dropFirst(9)) }
        return names.isEmpty ? "no DKIM keys were found in chasquid's domains" : names.joined(separator: ", ")
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var copy = self
        while copy.hasSuffix(" ") { copy.removeLast() }
        return copy
    }
}
