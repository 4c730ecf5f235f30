import ArgumentParser
import Config
import Foundation
import HTTPAPI
import MailStore

/// `apus events` (DESIGN §3b): what happened to messages, from the event store in `<data_dir>/apus.sqlite`.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show what happened to messages: queued, delivered, deferred, bounced, suppressed, …",
        discussion: """
            One event a line, oldest first: time (UTC), type, message id, recipient, and the reply or
            diagnosis. --json prints each event as the API's JSON object (GET /v1/events), one a line.
            Without --since, the last 24 hours. --follow keeps printing new events until interrupted.

            Event types: queued, delivered, deferred, bounced, delay, suppressed, complained, unsubscribed.
            The store is written by `apus serve`; this command reads it while the server runs.
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("Only this type (repeat for several).", valueName: "TYPE")) var type: [String] = []
    @Option(help: ArgumentHelp("Only events about this recipient.", valueName: "ADDRESS")) var recipient: String?
    @Option(help: ArgumentHelp("How far back: 30m, 2h, 7d (default 24h).", valueName: "DURATION")) var since: String = "24h"
    @Flag(help: "Keep printing new events as they are recorded.") var follow = false
    @Flag(help: "One JSON object a line, in the API's shape.") var json = false

    func run() async throws {
        let config: ApusConfig
        do { config = try ApusConfig.load(configDirectory: options.configDirectory) } catch { throw CLIError("\(error)") }
        var types: Set<EventType> = []
        for name in type.flatMap({ $0.split(separator: ",").map(String.init) }) {
            guard let t = EventType(rawValue: name) else {
                throw ValidationError("unknown event type \"\(name)\"; one of \(EventType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            types.insert(t)
        }
        guard let window = ConfigDuration(parsing: since) else {
            throw ValidationError("--since \"\(since)\" is not a duration; write 30m, 2h or 7d")
        }
        let store = try Self.openStore(config)
        var query = EventQuery(after: 0, limit: 500, types: types, recipient: recipient,
                               since: Date().addingTimeInterval(-Double(window.seconds)))
        while true {
            let events = try await store.events(query)
            // Written straight to the descriptor (no stdio buffer), so that --follow into a pipe shows each line at once.
            for event in events {
                let line = json ? String(decoding: API.jsonBytes(event), as: UTF8.self) : Self.line(event)
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
            if let last = events.last { query.after = last.id }
            if events.count == query.limit { continue }
            guard follow else { break }
            try await Task.sleep(for: .seconds(1))
        }
    }

    static func openStore(_ config: ApusConfig) throws -> SQLiteMailStore {
        let path = "\(config.dataDir)/apus.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("no event store at \(path): `apus serve` creates it when it starts (data_dir = \"\(config.dataDir)\")")
        }
        do { return try SQLiteMailStore(path: path) } catch { throw CLIError("cannot open \(path): \(error)") }
    }

    /// `2026-12-05T21:13:16Z  delivered  0001a2b3c4d5e6f7  bob@example.net  250 2.0.0 Ok`
    static func line(_ stored: StoredEvent) -> String {
        let e = stored.event
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var out = "\(formatter.string(from: e.time))  \(e.type.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))"
            + "\(e.messageID.isEmpty ? "-" : e.messageID)  \(e.recipient)"
        for key in ["reply", "reason", "diagnosis", "source"] {
            if let value = e.detail[key] { out += "  \(key == "reply" ? "" : key + "=")\(value)" }
        }
        return out
    }
}
