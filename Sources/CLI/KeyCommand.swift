import ArgumentParser
import Directory
import Foundation

/// `apus key create|list|revoke` (DESIGN.md §3b): the send API's keys in `domains/<domain>/api-keys`.
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Create, list and revoke keys of the HTTP send API.",
        discussion: """
            An API key lets an application send mail through POST /v1/messages (`Authorization: Bearer KEY`). \
            Each key belongs to one local domain and may send only as addresses of that domain, or only as the \
            addresses given with --sender. Keys live in CONFIG/domains/DOMAIN/api-keys, one a line; the file \
            holds only a SHA-256 hash of each key, so a key is shown once, when it is created.

            A running server picks up created and revoked keys within a few seconds, without a restart.
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key and print it.",
            discussion: """
                Prints what the key may do, then the key alone on the last line (so `apus key create … | tail -1` \
                captures it). Store it in the application's secrets: it cannot be shown again; if it is lost, \
                revoke it and create another.
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: ArgumentHelp("The local domain the key sends for.", valueName: "DOMAIN")) var domain: String
        @Option(help: ArgumentHelp("A label to recognise the key by in `apus key list`.", valueName: "N")) var name: String?
        @Option(name: .customLong("sender"), help: ArgumentHelp(
            "An address the key may send as (repeat for more; default: any address of DOMAIN).", valueName: "ADDR"))
        var senders: [String] = []
        @Option(name: .customLong("daily-limit"), help: ArgumentHelp(
            "Messages per day the key may send; past it the API answers 429 (default: no limit).", valueName: "N"))
        var dailyLimit: Int?

        func validate() throws {
            if let dailyLimit, dailyLimit < 1 { throw ValidationError("--daily-limit must be at least 1") }
            if let name, name.isEmpty || name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw ValidationError("--name must be non-empty text without control characters")
            }
        }

        func run() throws {
            let (_, directory) = try UserTool.load(options)
            let domain = KeyTool.domainKey(self.domain)
            guard directory.isLocalDomain(domain) else { throw KeyTool.notLocal(domain, options) }
            var senders: [String] = []
            for sender in self.senders {
                if let why = APIKeysFile.senderProblem(sender, domain: domain) { throw CLIError(why) }
                let at = sender.lastIndex(of: "@")!
                senders.append(sender[..<at] + "@" + KeyTool.domainKey(String(sender[sender.index(after: at)...])))
            }
            let (secret, key) = APIKeySecret.generate(domain: domain, name: name, senders: senders,
                                                      dailyLimit: dailyLimit, now: Date())
            let path = try APIKeyFileEditor.add(key, configDirectory: options.configDirectory)
            print("Created API key \(key.id) for \(domain)\(name.map { " (\($0))" } ?? "").")
            print("It may send as \(senders.isEmpty ? "any address of \(domain)" : senders.joined(separator: ", ")), "
                  + (dailyLimit.map { "at most \($0) messages a day." } ?? "with no daily limit."))
            print("Only its hash is kept, in \(path): copy the key now, it cannot be shown again.")
            print("Send with the header `Authorization: Bearer KEY`; revoke it with `apus key revoke \(key.id)`.")
            print(secret)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List keys (never the keys themselves).",
            discussion: """
                One key a line, under a heading: its id, domain, name, the senders it is limited to ("any" when \
                none), its daily limit ("-" when none) and when it was created (UTC).
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: ArgumentHelp("Only this domain's keys.", valueName: "DOMAIN")) var domain: String?

        func run() throws {
            let (_, directory) = try UserTool.load(options)
            if let domain, !directory.isLocalDomain(domain) { throw KeyTool.notLocal(KeyTool.domainKey(domain), options) }
            let keys = directory.apiKeys(in: domain)
            if keys.isEmpty {
                print(domain.map { "No API keys for \(KeyTool.domainKey($0))." } ?? "No API keys.")
                return
            }
            let rows = [["ID", "DOMAIN", "NAME", "SENDERS", "DAILY-LIMIT", "CREATED"]] + keys.map { key in
                [key.id, key.domain, key.name ?? "-", key.senders.isEmpty ? "any" : key.senders.joined(separator: ","),
                 key.dailyLimit.map(String.init) ?? "-", key.created.map(KeyTool.format) ?? "-"]
            }
            for line in KeyTool.columns(rows) { print(line) }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key: remove its line.",
            discussion: "ID is the key's id as `apus key list` shows it; the whole key is accepted too.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: ArgumentHelp("The key's id (12 hex characters).", valueName: "ID")) var id: String

        func run() throws {
            let id = APIKeySecret.keyID(of: id) ?? id.lowercased()
            guard id.count == 12, id.allSatisfy(\.isHexDigit) else {
                throw CLIError("\"\(self.id)\" is not a key id: 12 hex characters, as `apus key list` shows")
            }
            let key: APIKey
            do {
                key = try APIKeyFileEditor.revoke(id: id, configDirectory: options.configDirectory)
            } catch let error as DirectoryError where error.path == nil {
                throw CLIError("\(error.reason); `apus key list` shows the keys there are")
            }
            print("Revoked API key \(key.id) of \(key.domain)\(key.name.map { " (\($0))" } ?? ""). "
                  + "A running server refuses it within a few seconds.")
        }
    }
}

/// What the key commands share.
enum KeyTool {
    static func domainKey(_ domain: String) -> String {
        var d = domain.lowercased()
        if d.hasSuffix(".") { d.removeLast() }
        return d
    }

    static func notLocal(_ domain: String, _ options: ConfigOptions) -> CLIError {
        CLIError("\(domain) is not a local domain (no directory \(options.configDirectory)/domains/\(domain)); create it with `apus init \(domain)`")
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Rows as left-aligned columns two spaces apart.
    static func columns(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }
}
