import ArgumentParser
import Config
import Directory
import Foundation
import MailStore

/// `apus suppression list [DOMAIN] | add ADDRESS | remove ADDRESS` (DESIGN §3b, §3c): the addresses Apus never
/// sends to again for a sender domain.
struct SuppressionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppression",
        abstract: "List, add or remove suppressed addresses (never sent to again).",
        discussion: """
            Each entry belongs to one sender domain (a local domain). Hard bounces (no such mailbox), ARF
            complaints and one-click unsubscribes add entries by themselves; the API never sends to a
            suppressed address, and SMTP submissions are refused for one when [suppression] smtp = true.
            """,
        subcommands: [List.self, Add.self, Remove.self])

    static func open(_ options: ConfigOptions) throws -> (ApusConfig, SQLiteMailStore) {
        let config: ApusConfig
        do { config = try ApusConfig.load(configDirectory: options.configDirectory) } catch { throw CLIError("\(error)") }
        return (config, try EventsCommand.openStore(config))
    }

    /// The local domains: one directory each under `<config>/domains/`.
    static func localDomains(_ options: ConfigOptions) -> [String] {
        let dir = "\(options.configDirectory)/domains"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { !$0.hasPrefix(".") }.map { $0.lowercased() }.sorted()
    }

    static func domains(_ options: ConfigOptions, _ domain: String?) throws -> [String] {
        let local = localDomains(options)
        if let domain {
            guard local.contains(domain.lowercased()) else {
                throw CLIError("\(domain) is not a local domain (no directory \(options.configDirectory)/domains/\(domain))")
            }
            return [domain.lowercased()]
        }
        guard !local.isEmpty else { throw CLIError("no local domains under \(options.configDirectory)/domains") }
        return local
    }

    static func checkAddress(_ address: String) throws -> String {
        let a = address.trimmingCharacters(in: .whitespaces).lowercased()
        guard let at = a.lastIndex(of: "@"), at != a.startIndex, a.index(after: at) != a.endIndex, !a.contains(" ") else {
            throw ValidationError("\"\(address)\" is not an email address")
        }
        return a
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per entry: domain, address, reason, since, detail.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Only this sender domain.") var domain: String?

        func run() async throws {
            let (_, store) = try SuppressionCommand.open(options)
            var after: String?
            var count = 0
            let formatter = ISO8601DateFormatter()
            while true {
                let page = try await store.suppressions(domain: domain, after: after, limit: 500)
                for s in page {
                    print("\(s.domain)  \(s.address)  \(s.reason.rawValue)  \(formatter.string(from: s.created))"
                          + (s.detail.map { "  \($0)" } ?? ""))
                }
                count += page.count
                guard page.count == 500, let last = page.last else { break }
                after = "\(last.domain)\u{0}\(last.address)"
            }
            print("\(count) suppressed address(es)")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suppress an address (for every local domain unless --domain).")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The address never to send to.") var address: String
        @Option(help: "Only for this sender domain.") var domain: String?
        @Option(help: "Why (kept as the entry's detail).") var reason: String?

        func run() async throws {
            let address = try SuppressionCommand.checkAddress(address)
            let (_, store) = try SuppressionCommand.open(options)
            for d in try SuppressionCommand.domains(options, domain) {
                try await store.suppress(Suppression(domain: d, address: address, reason: .manual, created: Date(), detail: reason))
                print("suppressed \(address) for \(d)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an address from the list (every domain unless --domain).")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The address to send to again.") var address: String
        @Option(help: "Only for this sender domain.") var domain: String?

        func run() async throws {
            let address = try SuppressionCommand.checkAddress(address)
            let (_, store) = try SuppressionCommand.open(options)
            var removed = 0
            for d in try SuppressionCommand.domains(options, domain) where try await store.unsuppress(domain: d, address: address) {
                print("removed \(address) for \(d)")
                removed += 1
            }
            if removed == 0 { throw CLIError("\(address) is not suppressed\(domain.map { " for \($0)" } ?? "")") }
        }
    }
}
