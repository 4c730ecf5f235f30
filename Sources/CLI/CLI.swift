import ArgumentParser
import MailServer

/// The `apus` command tree (DESIGN.md §3b). Each subcommand lives in its own file.
public struct ApusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "apus",
        abstract: "A self-hosted mail server: receive, submit, sign, queue and deliver mail for your domains.",
        discussion: """
            Start with `apus dev` to try it on loopback ports with a throw-away configuration,
            or `apus init DOMAIN` to set up a real domain.
            """,
        version: ServerMetrics.defaultVersion,
        subcommands: [
            ServeCommand.self,
            DevCommand.self,
            InitCommand.self,
            CheckCommand.self,
            UserCommand.self,
            KeyCommand.self,
            AuthenticateCommand.self,
            DNSCommand.self,
            DKIMCommand.self,
            SPFCommand.self,
            VerifyCommand.self,
            QueueCommand.self,
            SendCommand.self,
            SendmailCommand.self,
            AliasCommand.self,
            ImportCommand.self,
            ConfigCommand.self,
            EventsCommand.self,
            SuppressionCommand.self,
            CertCommand.self,
            TLSReportCommand.self,
        ]
    )
    public init() {}
}
