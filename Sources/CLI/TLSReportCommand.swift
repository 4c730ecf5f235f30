import ArgumentParser
import Config
import ConfigFiles
import Foundation
import MailServer

/// `apus tls-report send --now`: TLS-RPT (RFC 8460) reports without waiting for midnight.
///
/// The running server counts the outcome of every outbound TLS negotiation and mails the reports of each
/// UTC day shortly after it ends (`[delivery] tls_reports`). This asks it to send, at once, the reports of
/// everything counted so far, today included (the report's date range then ends now; what is counted
/// later today goes into the next report). It creates `<data_dir>/state/tls-report-now`, which the server
/// removes when it has queued the reports; the command waits up to `--wait` seconds for that.
struct TLSReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls-report",
        abstract: "Send TLS-RPT (RFC 8460) reports of outgoing TLS now.",
        subcommands: [Send.self])

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the running server to queue the TLS-RPT reports of everything counted so far.",
            discussion: """
                The reports go to the rua= addresses of each recipient domain's _smtp._tls TXT record: mailto: \
                through the queue (see `apus queue list`), https: by POST. Domains without such a record get \
                none. Today's report then covers 00:00 UTC until now; what is counted later today goes into \
                the next one. Needs `[delivery] tls_reports = true` (the default) and a running `apus serve` \
                with the same data_dir. Exit status 0 once the server has queued the reports.
                """)
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Send now, including today's counts (required: reports are otherwise sent daily).") var now = false
        @Option(help: ArgumentHelp("Seconds to wait for the server to pick the request up.", valueName: "seconds")) var wait = 10

        func run() async throws {
            guard now else { throw CLIError("nothing to do: reports are sent daily after 00:00 UTC; use --now to send them at once") }
            let config: ApusConfig
            do { config = try ApusConfig.load(configDirectory: options.configDirectory) } catch { throw CLIError("\(error)") }
            guard config.delivery.tlsReports else {
                throw CLIError("TLS reports are off: set [delivery] tls_reports = true in \(options.configDirectory)/apus.toml")
            }
            let trigger = MailServer.tlsReportTrigger(dataDir: config.dataDir)
            try DurableFile.makeDirectories((trigger as NSString).deletingLastPathComponent)
            guard FileManager.default.createFile(atPath: trigger, contents: Data()) else {
                throw CLIError("cannot create \(trigger)")
            }
            for _ in 0..<(max(wait, 0) * 10) {
                if !FileManager.default.fileExists(atPath: trigger) {
                    print("TLS reports queued (see apus queue list and the server log for each report).")
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw CLIError("the server did not pick up \(trigger) within \(wait) s: is apus serve running with this data_dir?")
        }
    }
}
