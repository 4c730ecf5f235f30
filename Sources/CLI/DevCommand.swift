import ArgumentParser
import Certificates
import Config
import Directory
import Foundation
import Logging

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run a throw-away Apus on loopback ports to try it out.",
        discussion: """
            Creates a temporary configuration (domain example.test, user dev@example.test with a
            random password, a self-signed certificate) and serves it on 127.0.0.1 only. No root,
            no real domain, no DNS needed. Mail to example.test is delivered into a Maildir whose path
            is printed; mail to other domains stays in the queue: nothing leaves this machine.
            The directory is removed on exit unless --keep or --dir is given.
            """)

    @Option(help: "Port for incoming mail (MX, no AUTH needed for example.test).")
    var mxPort: Int = 2525
    @Option(help: "Port for submission (STARTTLS, then AUTH).")
    var submissionPort: Int = 2587
    @Option(help: "Port for submissions (implicit TLS, then AUTH).")
    var submissionsPort: Int = 2465
    @Option(help: "Port for the admin HTTP listener (/healthz, /metrics).")
    var adminPort: Int = 8025
    @Option(help: "Port for the HTTP send API (plain HTTP on loopback; a new key is printed at each start).")
    var apiPort: Int = 8026
    @Option(help: ArgumentHelp("Use (and keep) this directory instead of a temporary one.", valueName: "DIR"))
    var dir: String?
    @Flag(help: "Keep the temporary directory on exit.")
    var keep = false
    @Option(help: "Password for dev@example.test (default: random, printed).")
    var password: String?
    @Option(help: "Log level: trace, debug (SMTP transcripts), info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        let level = try LogSetup.parseLevel(logLevel)
        let root = dir ?? (NSTemporaryDirectory() + "apus-dev-" + String(UInt32.random(in: 0...UInt32.max), radix: 36))
        let configDir = "\(root)/config", dataDir = "\(root)/data"
        let domain = "example.test", hostname = "mx.example.test", user = "dev"
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(configDir)/domains/\(domain)", withIntermediateDirectories: true)

        var config = ApusConfig(hostname: hostname, dataDir: dataDir)
        config.delivery.holdRemote = true   // "nothing leaves this machine": remote mail stays queued
        config.checks.enabled = false       // no SPF/DKIM/DMARC lookups: no DNS query leaves the machine either
        config.listen = .init(mx: [ListenAddress(host: "127.0.0.1", port: mxPort)],
                              submission: [ListenAddress(host: "127.0.0.1", port: submissionPort)],
                              submissions: [ListenAddress(host: "127.0.0.1", port: submissionsPort)],
                              admin: [ListenAddress(host: "127.0.0.1", port: adminPort)])
        config.listen.api = [ListenAddress(host: "127.0.0.1", port: apiPort)]
        config.api.tls = false                                  // loopback only
        config.api.publicURL = "http://127.0.0.1:\(apiPort)"    // one-click unsubscribe links point here
        let configPath = "\(configDir)/apus.toml"
        if !fm.fileExists(atPath: configPath) {
            try config.render().write(toFile: configPath, atomically: true, encoding: .utf8)
        } else {
            config = try ApusConfig.load(configDirectory: configDir)
        }

        // A known password each run: the users file is rewritten with the printed one.
        let secret = password ?? Self.randomPassword()
        let phc = try PasswordHash.make(password: secret, logN: 12)   // fast enough for debug builds; a dev box only
        try "# apus dev: generated, rewritten at each start\n\(user) \(phc)\n"
            .write(toFile: "\(configDir)/domains/\(domain)/users", atomically: true, encoding: .utf8)
        // A new API key each run, like the password: the file keeps only its hash.
        let apiKey = APIKeySecret.generate(domain: domain, name: "dev", senders: [], dailyLimit: nil, now: Date())
        try ("# apus dev: generated, rewritten at each start\n" + APIKeysFile.render([apiKey.key]))
            .write(toFile: "\(configDir)/domains/\(domain)/api-keys", atomically: true, encoding: .utf8)
        try SelfSignedCertificate.write(hostname: hostname, certsDirectory: "\(configDir)/certs",
                                        ipAddresses: [[127, 0, 0, 1]])
        let maildir = "\(dataDir)/mail/\(domain)/\(user)"

        // Said plainly: without the checks, delivered mail has no Authentication-Results header.
        let checks = config.checks.enabled ? "SPF at MAIL FROM, DKIM and DMARC after DATA (Authentication-Results)"
            : "SPF, DKIM and DMARC checks are OFF (no DNS query leaves this machine), so mail\n"
            + "                gets no Authentication-Results header; apus serve checks them"
        let banner = """
            Apus dev server: a throw-away configuration in \(root)
              domain        \(domain) (host name \(hostname))
              user          \(user)@\(domain)   password: \(secret)
              MX            127.0.0.1:\(mxPort)    mail for @\(domain), no AUTH
              submission    127.0.0.1:\(submissionPort)    STARTTLS, then AUTH PLAIN/LOGIN
              submissions   127.0.0.1:\(submissionsPort)    implicit TLS, then AUTH PLAIN/LOGIN
              admin HTTP    127.0.0.1:\(adminPort)    GET /healthz, GET /metrics (Prometheus)
              send API      127.0.0.1:\(apiPort)    POST /v1/messages, GET /v1/events (docs/api.md)
                            key: \(apiKey.secret)
              certificate   self-signed, \(configDir)/certs/\(hostname)/fullchain.pem
              mailbox       \(maildir)/new/   (Maildir)
              checks        \(checks)

            Try it:
              swaks --server 127.0.0.1:\(mxPort) --to \(user)@\(domain)
              swaks --server 127.0.0.1:\(submissionPort) --tls --auth LOGIN --auth-user \(user)@\(domain) \\
                    --auth-password '\(secret)' --from \(user)@\(domain) --to \(user)@\(domain)
              ls \(maildir)/new/
              curl http://127.0.0.1:\(adminPort)/metrics
              curl -H 'Authorization: Bearer \(apiKey.secret)' http://127.0.0.1:\(apiPort)/v1/messages \\
                   -d '{"from":"\(user)@\(domain)","to":["\(user)@\(domain)"],"subject":"hi","text":"hello"}'
              curl -H 'Authorization: Bearer \(apiKey.secret)' http://127.0.0.1:\(apiPort)/v1/events

            Mail to other domains stays in the queue (\(dataDir)/queue): nothing leaves this machine.
            Ctrl-C stops the server\(dir == nil && !keep ? " and removes \(root)" : "").


            """
        LogSetup.bootstrap(level: level)
        defer {
            if dir == nil && !keep { try? fm.removeItem(atPath: root) }
        }
        // The banner only once every port is bound: a taken port is reported first, and alone.
        let fixes = ["mx": "use --mx-port", "submission": "use --submission-port",
                     "submissions": "use --submissions-port", "admin": "use --admin-port",
                     "api": "use --api-port"]
        try await ServeCommand.serve(config: config, configDirectory: configDir, level: level, bindFixes: fixes,
                                     onListening: { FileHandle.standardOutput.write(Data(banner.utf8)) })
    }

    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<16).map { _ in alphabet.randomElement()! })
    }
}
