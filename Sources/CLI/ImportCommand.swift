import ArgumentParser
import Foundation

/// `apus import chasquid [DIR] [--dry-run] [--force]` (DESIGN.md §3b): move another server's setup in.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Move another mail server's setup into Apus.",
        subcommands: [ImportChasquidCommand.self])
}

struct ImportChasquidCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chasquid",
        abstract: "Import a chasquid configuration, its users' passwords and its queue.",
        discussion: """
            Reads chasquid's configuration directory (default /etc/chasquid) and writes the Apus \
            configuration directory (--config):

              chasquid.conf             → apus.toml (hostname, listeners, size limit,
                                          [aliases], MDA or LMTP, give-up time)
              domains/D/users           → domains/D/users (the same scrypt hashes)
              domains/D/aliases         → domains/D/aliases (same syntax)
              domains/D/dkim:SEL.pem    → domains/D/dkim/SEL.pem (the same key)
              certs/D/dkim_privkey.pem  → domains/D/dkim/SEL.pem (SEL: domains/D/dkim_selector)
              certs/NAME/               → certs/NAME/ (symbolic links kept)
              DATA_DIR/queue/m:ID       → Apus's queue (recipients still pending)

            Every chasquid file is read and checked before anything is written: a malformed file stops the \
            import with its name and line, and nothing is written. An Apus file that exists with other \
            contents is not replaced unless --force. Running the import again changes nothing (queue items \
            already imported are remembered in DATA_DIR/state/chasquid-import). What has no Apus equivalent \
            is listed, then the next steps. Stop chasquid before importing its queue: a message chasquid \
            delivers after the import would be delivered twice.
            """)

    @OptionGroup var options: ConfigOptions
    @Argument(help: ArgumentHelp("chasquid's configuration directory.", valueName: "DIR"))
    var source: String = "/etc/chasquid"
    @Option(help: ArgumentHelp("Apus's data directory, written into apus.toml (default: data_dir of an existing apus.toml, else /var/lib/apus).",
                               valueName: "DIR"))
    var dataDir: String?
    @Option(help: ArgumentHelp("chasquid's queue directory (default: data_dir of chasquid.conf + /queue).", valueName: "DIR"))
    var queue: String?
    @Option(name: .customLong("systemd-units"),
            help: ArgumentHelp("A directory of systemd units, where chasquid's .socket units give the addresses of listeners set to \"systemd\" (repeatable; default: /etc/systemd/system, /run/systemd/system, /lib/systemd/system, /usr/lib/systemd/system).",
                               valueName: "DIR"))
    var unitDirectories: [String] = []
    @Flag(help: "Show what would be done; write nothing.") var dryRun = false
    @Flag(help: "Replace Apus files that exist with other contents.") var force = false

    func run() async throws {
        let plan = try ChasquidImportPlan.make(source: InitCommand.absolute(source),
                                               configDirectory: InitCommand.absolute(options.configDirectory),
                                               dataDirectory: dataDir.map(InitCommand.absolute), queueDirectory: queue,
                                               unitDirectories: unitDirectories.isEmpty ? ChasquidImportPlan.systemdUnitDirectories : unitDirectories)
        let conflicts = plan.files.filter { $0.status == .differs }
        if !conflicts.isEmpty && !force {
            print(plan.summary(dryRun: true, force: false))
            throw CLIError("not imported: \(conflicts.count == 1 ? "this Apus file exists" : "these Apus files exist") with other contents: "
                           + conflicts.map(\.path).joined(separator: ", ") + "; run again with --force to replace "
                           + (conflicts.count == 1 ? "it" : "them") + " (nothing was written)")
        }
        if dryRun {
            print(plan.summary(dryRun: true, force: force))
            return
        }
        let imported = try await plan.apply()
        print(plan.summary(dryRun: false, force: force, queued: imported))
    }
}
