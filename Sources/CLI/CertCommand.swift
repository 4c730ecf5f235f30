import ACME
import ArgumentParser
import Certificates
import Config
import Directory
import Foundation
import Logging
import MailServer

/// `apus cert status|renew` (DESIGN.md §3b): the certificates the built-in ACME client keeps.
struct CertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Show and renew the certificates obtained with ACME ([acme] in apus.toml).",
        subcommands: [Status.self, Renew.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per certificate: names, issuer, expiry, next renewal.",
            discussion: """
                Lists the certificate of every name of [acme] names (default: the host name and
                mta-sts.<domain> for each local domain), as found in <config>/certs/<name>/fullchain.pem:

                    NAME  names=SAN,…  issuer="CN" O="ORGANIZATION"  not-after=DATE  renewal=DATE|now (why)

                The server renews a certificate at 2/3 of its lifetime (a little earlier, fixed per name).
                "renewal=now" means `apus serve` obtains it at once: missing, self-signed, or due.
                """)
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let (manager, _) = try CertCommand.manager(options, requireACME: false)
            for status in manager.status() { print(status.line(now: Date())) }
        }
    }

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run ACME now for the certificates that need it (all with --force).",
            discussion: """
                Obtains a certificate for each name that has none, a self-signed one or one due for
                renewal, answering the CA's challenge (tls-alpn-01 on [listen] https, http-01 on
                [listen] http). While `apus serve` runs, it answers the challenge for this command
                (the answers are shared under <data_dir>/state/acme/challenges/); otherwise this command
                listens on those addresses itself for the time of the order.

                The new certificate replaces certs/<name>/ atomically; the running server serves it to
                the next connection. On failure the old certificate stays, the CA's error is printed
                and the exit status is 1.
                """)
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Renew every certificate, even those not yet due.")
        var force = false
        @Option(help: "Log level: trace, debug, info, notice, warning, error.")
        var logLevel: String = "notice"

        func run() async throws {
            let level = try LogSetup.parseLevel(logLevel)
            LogSetup.bootstrap(level: level)
            var logger = Logger(label: "apus")
            logger.logLevel = level
            let (manager, config) = try CertCommand.manager(options, requireACME: true, logger: logger)
            // Answer the challenge ourselves unless the server already listens there.
            let tls = try? TLSContextProvider(certsDirectory: "\(options.configDirectory)/certs", hostname: config.hostname)
            let routes = WebRoutes(challenges: ChallengeStore(dataDirectory: config.dataDir), mtaSTSPolicy: { _ in nil })
            let web = WebServer(http: config.listen.http.map { .init(host: $0.host, port: $0.port) },
                                https: config.listen.https.map { .init(host: $0.host, port: $0.port) },
                                routes: routes, tls: tls, logger: logger)
            let ownListeners = (try? await web.bind()) != nil
            if !ownListeners {
                await web.close()
                logger.info("the listeners of [listen] are in use (apus serve running): it answers the challenges")
            }
            let outcomes = await manager.renew(force: force)
            if ownListeners { await web.close() }
            var failed = false
            for outcome in outcomes {
                if let error = outcome.error {
                    failed = true
                    FileHandle.standardError.write(Data("apus cert renew: \(outcome.name): \(error)\n".utf8))
                } else if let reason = outcome.reason {
                    print("\(outcome.name): new certificate (\(reason.rawValue))")
                } else {
                    print("\(outcome.name): not due")
                }
            }
            for status in manager.status() { print(status.line(now: Date())) }
            if failed { throw ExitCode(1) }
        }
    }

    static func manager(_ options: ConfigOptions, requireACME: Bool,
                        logger: Logger = Logger(label: "apus")) throws -> (CertificateManager, ApusConfig) {
        let config: ApusConfig
        do {
            config = try ApusConfig.load(configDirectory: options.configDirectory)
        } catch {
            throw CLIError("\(error)")
        }
        let directory = try? MailDirectory.load(configDirectory: options.configDirectory)
        var effective = config
        if !config.acme.enabled {
            if requireACME {
                throw CLIError("\(options.configDirectory)/apus.toml: [acme] email is empty, so the built-in ACME client is off; set it (e.g. email = \"postmaster@\(config.hostname)\")")
            }
            effective.acme.email = "unset@invalid"
        }
        guard let manager = MailServer.makeCertificateManager(config: effective, configDirectory: options.configDirectory,
                                                              localDomains: directory?.domains ?? [], logger: logger)
        else { throw CLIError("[acme] is off") }
        return (manager, config)
    }
}
