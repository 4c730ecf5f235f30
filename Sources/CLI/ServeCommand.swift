import ArgumentParser
import Config
import Foundation
import Logging
import MailServer
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the mail server in the foreground (what systemd runs).",
        discussion: """
            Reads <config>/apus.toml, the users under <config>/domains/ and the certificates under
            <config>/certs/, then listens on every address of [listen]. Logs go to standard error:
            one line per connection, per accepted message (queued id=…) and per delivery; with
            --log-level debug, a transcript of every command and reply (AUTH data redacted).

            Signals: SIGTERM or SIGINT stop gracefully; SIGHUP reloads users and certificates.
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = ProcessInfo.processInfo.environment["APUS_LOG_LEVEL"] ?? "info"

    func run() async throws {
        let level = try LogSetup.parseLevel(logLevel)
        LogSetup.bootstrap(level: level)
        let config: ApusConfig
        do {
            config = try ApusConfig.load(configDirectory: options.configDirectory)
        } catch {
            throw CLIError("\(error)")
        }
        try await ServeCommand.serve(config: config, configDirectory: options.configDirectory, level: level)
    }

    /// `bindFixes`: per `[listen]` key, what the user should change when it cannot be bound (`apus dev` names
    /// its flags). `onListening` runs once every listener is bound.
    static func serve(config: ApusConfig, configDirectory: String, level: Logger.Level,
                      bindFixes: [String: String] = [:],
                      onListening: (@Sendable () -> Void)? = nil) async throws {
        var logger = Logger(label: "apus")
        logger.logLevel = level
        let server: MailServer
        do {
            server = try MailServer(config: config, configDirectory: configDirectory, bindFixes: bindFixes,
                                    onListening: onListening, logger: logger)
        } catch {
            throw CLIError("\(error)")
        }
        await server.removeLeftovers()   // before any service can write a temp file
        let group = ServiceGroup(configuration: .init(
            services: server.services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch let error as ListenerBindError {
            throw CLIError("\(error)")
        }
    }
}

/// An error for the user: ArgumentParser prints it as `Error: <message>` on standard error, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

enum LogSetup {
    static func parseLevel(_ text: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ValidationError("unknown log level \"\(text)\"; use trace, debug, info, notice, warning or error")
        }
        return level
    }

    static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
