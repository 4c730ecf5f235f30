import ArgumentParser
import Config
import Foundation

/// `apus config check|reference`: validate `apus.toml` the way the server loads it, and print the reference of
/// its keys (`docs/configuration.md` is this output, written by `scripts/gen-docs`).
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check apus.toml, or print the reference of its settings.",
        discussion: """
            The settings live in CONFIG/apus.toml (CONFIG is --config DIR, else $APUS_CONFIG, else /etc/apus). \
            `apus config check` says whether the server would accept it; `apus config reference` documents \
            every key.
            """,
        subcommands: [Check.self, Reference.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load and validate CONFIG/apus.toml as the server would.",
            discussion: """
                Reads CONFIG/apus.toml with the parser and the checks `apus serve` uses and prints \
                `CONFIG/apus.toml: ok`. Otherwise it prints the first problem on standard error as \
                `FILE:LINE: reason`, naming the key (an unknown key comes with the nearest known one: \
                `did you mean "max_recipients"?`), and exits with status 1. Run it after editing the file \
                and before restarting the server, which reads apus.toml only when it starts.

                Only apus.toml is checked: not the users, aliases, DKIM keys or certificates under CONFIG. \
                A key left out takes its default; `hostname` defaults to this machine's host name, which must \
                then be a valid host name.
                """)

        @OptionGroup var options: ConfigOptions

        func run() throws {
            let directory = options.configDirectory
            do {
                _ = try ApusConfig.load(configDirectory: directory)
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode.failure
            }
            print((directory.hasSuffix("/") ? directory : directory + "/") + "apus.toml: ok")
        }
    }

    struct Reference: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the reference of every apus.toml key, in Markdown.",
            discussion: """
                For each key: its table, type, default and what it does, made from the same schema table the \
                server parses apus.toml with, so it is always current. docs/configuration.md is this output; \
                scripts/gen-docs regenerates it: `apus config reference > docs/configuration.md`.
                """)

        func run() throws {
            print(ApusConfig.referenceMarkdown(), terminator: "")
        }
    }
}
