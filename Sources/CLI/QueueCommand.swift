import ConfigFiles
import ArgumentParser
import Config
import Foundation
import Logging
import MailQueue

/// `apus queue list | show ID | retry [ID] | remove ID` (DESIGN.md §3b): the queue in `<data_dir>/queue/`.
///
/// These commands work on the files directly, with or without a running server. `retry` asks a running
/// server to try now by creating `<data_dir>/state/retry/<ID>` (or `all`); the server's queue runner looks
/// there every second. A stopped server retries everything at its next start anyway.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "List, inspect, retry or remove queued messages.",
        subcommands: [List.self, Show.self, Retry.self, Remove.self])

    static func spool(_ options: ConfigOptions) throws -> (ApusConfig, FileSpool) {
        let config: ApusConfig
        do { config = try ApusConfig.load(configDirectory: options.configDirectory) } catch { throw CLIError("\(error)") }
        // Warnings about unreadable queue files go to standard error, not into the listing on standard output.
        let logger = Logger(label: "apus.queue") { StreamLogHandler.standardError(label: $0) }
        return (config, try FileSpool(directory: "\(config.dataDir)/queue", logger: logger))
    }

    static func triggerRetry(_ config: ApusConfig, name: String) throws {
        let dir = "\(config.dataDir)/state/retry"
        try DurableFile.makeDirectories(dir)
        guard FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data()) else {
            throw CLIError("cannot create \(dir)/\(name)")
        }
    }

    static func age(_ date: Date) -> String {
        let s = Int(Date().timeIntervalSince(date))
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per queued message: id, age, size, sender, pending recipients, next attempt.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let (_, spool) = try QueueCommand.spool(options)
            let items = try await spool.list()
            if items.isEmpty { print("The queue is empty."); return }
            let formatter = ISO8601DateFormatter()
            for item in items {
                let pending = item.recipients.filter { $0.state == .pending }.map { "<\($0.address)>" }
                let next = item.nextAttempt.map { $0 == .distantFuture ? "held" : formatter.string(from: $0) } ?? "now"
                print("\(item.id)  \(QueueCommand.age(item.receivedAt))  \(item.size)B  from=<\(item.mailFrom)>  "
                      + "pending=\(pending.joined(separator: ","))  next=\(next)")
            }
            print("\(items.count) message(s)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The envelope, recipient states and header of one message.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Queue id (16 hex digits).") var id: String

        func run() async throws {
            let (_, spool) = try QueueCommand.spool(options)
            let (meta, body) = try await spool.load(id: id)
            print("id: \(meta.id)")
            print("from: <\(meta.mailFrom)>")
            print("received: \(meta.receivedAt) from \(meta.clientName) [\(meta.clientAddress)]"
                  + (meta.authenticatedUser.map { " auth=\($0)" } ?? ""))
            print("size: \(meta.size)")
            if let next = meta.nextAttempt { print("next attempt: \(next == .distantFuture ? "held" : "\(next)")") }
            for r in meta.recipients {
                print("to: <\(r.address)> \(r.state.rawValue) attempts=\(r.attempts)"
                      + (r.route.map { " route=\($0.rawValue)" } ?? "") + (r.provider.map { " provider=\($0)" } ?? "")
                      + (r.remoteMTA.map { " mta=\($0)" } ?? "") + (r.lastReply.map { " last=\"\($0)\"" } ?? ""))
                if let diagnosis = r.diagnosis { print("  diagnosis: \(diagnosis)") }
            }
            print("")
            let text = String(decoding: body.readableBytesView, as: UTF8.self)
            let header = text.components(separatedBy: "\r\n\r\n").first ?? text
            print(header.replacingOccurrences(of: "\r\n", with: "\n"))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the running server to try delivery now: one message, or all.",
            discussion: "Creates <data_dir>/state/retry/<ID> (or /all); the server picks it up within a second.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Queue id; all messages when absent.") var id: String?

        func run() async throws {
            let (config, spool) = try QueueCommand.spool(options)
            if let id {
                _ = try await spool.load(id: id)
                try QueueCommand.triggerRetry(config, name: id)
                print("Retry requested for \(id).")
            } else {
                try QueueCommand.triggerRetry(config, name: "all")
                print("Retry requested for every queued message.")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a message from the queue without a bounce.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Queue id (16 hex digits).") var id: String

        func run() async throws {
            let (_, spool) = try QueueCommand.spool(options)
            _ = try await spool.load(id: id)
            try await spool.remove(id: id)
            print("Removed \(id).")
        }
    }
}
