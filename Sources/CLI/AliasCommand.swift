import ArgumentParser
import Config
import Directory
import Foundation
import SMTPProtocol

/// `apus alias resolve ADDRESS` (DESIGN.md §3b): where mail for an address goes.
struct AliasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias",
        abstract: "Show where mail for an address goes.",
        discussion: """
            Aliases live in CONFIG/domains/DOMAIN/aliases, in chasquid's syntax: `name: target, target`, \
            `name: | command`, `*: target` for the catch-all, and `*@other.example` as a target to keep the local \
            part that was asked for.
            """,
        subcommands: [Resolve.self]
    )

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the final recipients of an address, one a line.",
            discussion: """
                Each line is `local USER@DOMAIN` (a mailbox here), `forward ADDRESS` (sent on to another domain) \
                or `pipe COMMAND`. The lookup is the server's: SRS addresses, the exact alias, the alias without \
                suffix and drop characters ([aliases] in apus.toml), the user, then the catch-all. Targets that \
                reach no one are listed on standard error. Exits 1 when the address reaches no one; the server \
                would refuse it with 550 5.1.1.
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: ArgumentHelp("The address to resolve.", valueName: "ADDRESS")) var address: String

        func run() throws {
            let config = try ApusConfig.load(configDirectory: options.configDirectory)
            let settings = AliasSettings(dropCharacters: config.aliases.dropCharacters,
                                         suffixSeparators: config.aliases.suffixSeparators)
            let directory = try MailDirectory.load(configDirectory: options.configDirectory, aliases: settings)
            let mailbox: Mailbox
            do {
                mailbox = try Mailbox.parse(address)
            } catch {
                throw AliasCommandError("\"\(address)\" is not an address: \(error.lines.joined(separator: " "))")
            }
            // The secret is only read here: the server makes it (with its own owner) when it first runs.
            let srs = try SRSSecret.load(path: SRSSecret.path(dataDirectory: config.dataDir)).map { SRS(secret: $0) }
            let resolution: AliasResolution
            do {
                resolution = try directory.resolve(mailbox, srs: srs)
            } catch {
                throw AliasCommandError(error.description)
            }
            for recipient in resolution.recipients { print(recipient) }
            for lost in resolution.unreachable {
                FileHandle.standardError.write(Data("warning: <\(lost)> reaches no one; it is skipped\n".utf8))
            }
        }
    }
}

/// Printed as `Error: …` on standard error, exit status 1.
struct AliasCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
