#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Certificates
import Config
import DKIM
import DNSCore
import Directory
import Foundation

/// `apus init DOMAIN [--hostname H] [--user NAME [--password PW]] [--data-dir DIR] [--ip ADDR …]`
/// (DESIGN.md §3b): sets up a configuration directory for a domain, then prints the next steps.
///
/// Idempotent: it only creates what is missing and never replaces a file — apus.toml, a DKIM key, a user,
/// a certificate, the SRS secret — so running it again (or for a second domain) is safe. Every item is
/// reported as `created` or `kept`.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Set up Apus for a domain: config, DKIM keys, certificate, first user; then print the next steps.",
        discussion: """
            Creates what is missing in the configuration directory and never replaces anything already there: \
            apus.toml (every setting, commented; hostname and data_dir from the options), domains/DOMAIN/ with \
            a users file (empty, or the --user) and a commented aliases file, two DKIM keys \
            (domains/DOMAIN/dkim/apus-ed25519.pem and apus-rsa.pem; mail is signed with both), a self-signed \
            certificate in certs/HOSTNAME/ unless a certificate for HOSTNAME exists, and the SRS secret \
            DATA_DIR/state/srs.secret when DATA_DIR is writable (else `apus serve` makes it).

            Each item is reported as created or kept. Run it again for another domain: apus.toml, the \
            certificate and the SRS secret stay as they are.
            """)

    @OptionGroup var options: ConfigOptions
    @Argument(help: "Your mail domain (the part after @), like example.com.") var domain: String
    @Option(help: ArgumentHelp("This server's host name, the target of the MX record (default: mx.DOMAIN).", valueName: "NAME"))
    var hostname: String?
    @Option(help: ArgumentHelp("Create this user (NAME or NAME@DOMAIN).", valueName: "NAME")) var user: String?
    @Option(help: "The user's password (default: ask for it twice).") var password: String?
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Queue, state and mailboxes (default: /var/lib/apus).", valueName: "DIR"))
    var dataDir: String?
    @Option(name: .customLong("ip"), help: ArgumentHelp("This server's public address, IPv4 or IPv6 (repeatable); used in the printed DNS command.", valueName: "ADDR"))
    var addresses: [String] = []
    @Option(name: .customLong("acme-email"), help: ArgumentHelp("Turn on the built-in ACME client (Let's Encrypt) with this contact address: writes [acme] and the listeners on ports 80 and 443.", valueName: "ADDR"))
    var acmeEmail: String?
    @Option(name: .customLong("scrypt-log-n"), help: .hidden) var scryptLogN = PasswordHash.defaultLogN

    func validate() throws {
        _ = try DomainArgument.normalize(domain)
        if let hostname { _ = try DomainArgument.normalize(hostname, what: "--hostname") }
        _ = try DomainArgument.addresses(ipv4: addresses, ipv6: [])
        if password != nil && user == nil { throw ValidationError("--password needs --user") }
        if dataDir == "" { throw ValidationError("--data-dir must not be empty") }
        if let acmeEmail, !ApusConfig.isAddress(acmeEmail) {
            throw ValidationError("--acme-email \"\(acmeEmail)\" is not an address (user@domain)")
        }
        try UserTool.validate(logN: scryptLogN, password: password)
    }

    func run() async throws {
        let domain = try DomainArgument.normalize(domain)
        let ips = try DomainArgument.addresses(ipv4: addresses, ipv6: [])
        let configDirectory = Self.absolute(options.configDirectory)
        var report = InitReport()
        print("Setting up \(domain) in \(configDirectory)\n")

        // What the user typed (the user name, the password: asked twice on a terminal, one line from a pipe)
        // is checked before any file is written (DESIGN §4).
        let existing = FileManager.default.fileExists(atPath: "\(configDirectory)/apus.toml")
            ? try ApusConfig.load(configDirectory: configDirectory) : nil
        let early = existing ?? ApusConfig(hostname: "mx.\(domain)")
        let userName = try user.map { try Self.userName($0, domain: domain, config: early) }
        let secret = try userName.flatMap { try newPassword(for: $0, domain: domain, configDirectory: configDirectory, config: early) }

        let config = try setUpConfig(configDirectory: configDirectory, domain: domain, report: &report)
        let hostname = try DomainArgument.hostname(of: config, configDirectory: configDirectory, domain: domain)
        let domainDirectory = "\(configDirectory)/domains/\(domain)"
        try setUpDomain(domainDirectory, domain: domain, user: userName, report: &report)
        try setUpDKIM(configDirectory: configDirectory, domain: domain, report: &report)
        let certificate = setUpCertificate(configDirectory: configDirectory, hostname: hostname, report: &report)
        setUpSRS(dataDirectory: config.dataDir, report: &report)
        if let userName {
            try setUpUser(userName, secret: secret, domain: domain, domainDirectory: domainDirectory, config: config,
                          configDirectory: configDirectory, report: &report)
        }
        matchDataOwner(dataDirectory: config.dataDir, report: &report)
        print("")
        print(NextSteps(domain: domain, hostname: hostname, configDirectory: configDirectory,
                        customConfig: configDirectory != "/etc/apus", addresses: ips,
                        user: userName.map { "\($0)@\(domain)" }, certificate: certificate, acme: config.acme.enabled).text,
              terminator: "")
        if report.failed { throw ExitCode.failure }
    }

    // MARK: steps

    /// apus.toml: written with `render()` when missing, else loaded (and --hostname/--data-dir ignored).
    func setUpConfig(configDirectory: String, domain: String, report: inout InitReport) throws -> ApusConfig {
        let path = "\(configDirectory)/apus.toml"
        if FileManager.default.fileExists(atPath: path) {
            let config = try ApusConfig.load(configDirectory: configDirectory)
            report.kept(path, "hostname \(config.hostname), data_dir \(config.dataDir)")
            if let hostname, (try? DomainArgument.normalize(hostname)) != config.hostname.lowercased() {
                report.note("--hostname \(hostname) not applied: apus.toml says hostname = \"\(config.hostname)\"; edit it to change")
            }
            if acmeEmail != nil && !config.acme.enabled {
                report.note("--acme-email not applied: apus.toml exists; set email in [acme] and [listen] http/https to turn ACME on")
            }
            if let dataDir, Self.absolute(dataDir) != config.dataDir {
                report.note("--data-dir \(dataDir) not applied: apus.toml says data_dir = \"\(config.dataDir)\"; edit it to change")
            }
            return config
        }
        let hostname = try self.hostname.map { try DomainArgument.normalize($0, what: "--hostname") } ?? "mx.\(domain)"
        var config = ApusConfig(hostname: hostname, dataDir: Self.absolute(dataDir ?? "/var/lib/apus"))
        if let acmeEmail {
            // ACME: tls-alpn-01 on 443 (also serves the MTA-STS policy), http-01 answers and redirects on 80.
            config.acme.email = acmeEmail
            config.listen.http = [ListenAddress(host: "0.0.0.0", port: 80), ListenAddress(host: "::", port: 80)]
            config.listen.https = [ListenAddress(host: "0.0.0.0", port: 443), ListenAddress(host: "::", port: 443)]
        }
        let text = config.render()
        _ = try ApusConfig.parse(text, path: path)   // never write a file the server would refuse
        try Self.makeDirectory(configDirectory)
        guard try Self.createFile(path, contents: text, mode: 0o644) else {
            report.kept(path, "written by another process meanwhile")
            return try ApusConfig.load(configDirectory: configDirectory)
        }
        report.created(path, "hostname \(config.hostname), data_dir \(config.dataDir)")
        return config
    }

    /// `domains/DOMAIN/` with a commented `users` and `aliases` file.
    func setUpDomain(_ directory: String, domain: String, user: String?, report: inout InitReport) throws {
        try Self.makeDirectory(directory)
        let users = "\(directory)/users"
        if try Self.createFile(users, contents: Self.usersFileText(domain: domain), mode: 0o640) {
            report.created(users)
        } else {
            report.kept(users)
        }
        let aliases = "\(directory)/aliases"
        if try Self.createFile(aliases, contents: Self.aliasesFileText(domain: domain, user: user), mode: 0o644) {
            report.created(aliases, "comments only: the syntax, with examples")
        } else {
            report.kept(aliases)
        }
    }

    /// The two default keys; an existing file is kept as it is (and checked to be a key).
    func setUpDKIM(configDirectory: String, domain: String, report: inout InitReport) throws {
        for (algorithm, label) in [(DKIMKeyAlgorithm.ed25519, "Ed25519"), (.rsa2048, "RSA-2048")] {
            let selector = DKIMCommand.defaultSelector(for: algorithm)
            let path = DKIMKeyStore.path(configDirectory: configDirectory, domain: domain, selector: selector)
            if FileManager.default.fileExists(atPath: path) {
                report.kept(path, "DKIM key \(selector)")
                continue
            }
            let key = try DKIMSigningKey.generate(algorithm, domain: domain, selector: selector)
            do {
                try DKIMKeyStore.write(key, configDirectory: configDirectory)
                report.created(path, "DKIM key \(selector), \(label)")
            } catch .alreadyExists {
                report.kept(path, "DKIM key \(selector)")
            } catch {
                throw CLIError("\(error)")
            }
        }
        // Every key of the domain must load, or the server would refuse to sign.
        do { _ = try DKIMKeyStore.load(configDirectory: configDirectory, domain: domain) } catch {
            report.problem("\(error)")
        }
    }

    enum CertificateOutcome { case selfSigned, existing, none }

    /// A self-signed certificate for the host name, unless some certificate in certs/ already covers it.
    func setUpCertificate(configDirectory: String, hostname: String, report: inout InitReport) -> CertificateOutcome {
        let certs = "\(configDirectory)/certs"
        do {
            let set = try CertificateSet.load(certsDirectory: certs)
            if let entry = set.entries.first(where: { $0.matches(hostname) }) {
                report.kept("\(certs)/\(entry.name)/", "\(entry.isSelfSigned ? "self-signed " : "")certificate for \(hostname)")
                return entry.isSelfSigned ? .selfSigned : .existing
            }
            if try SelfSignedCertificate.write(hostname: hostname, certsDirectory: certs) {
                report.created("\(certs)/\(hostname)/", "self-signed certificate for \(hostname), until you get a real one")
                return .selfSigned
            }
            report.problem("\(certs)/\(hostname)/fullchain.pem exists but is not valid for \(hostname); not replacing it")
        } catch {
            report.problem("certificate not created: \(error)")
        }
        return .none
    }

    /// The SRS secret, when the data directory can be written by this user; else the server makes it.
    func setUpSRS(dataDirectory: String, report: inout InitReport) {
        let path = SRSSecret.path(dataDirectory: dataDirectory)
        do {
            if try SRSSecret.load(path: path) != nil {
                report.kept(path, "SRS secret")
                return
            }
            guard Self.canCreate(dataDirectory) else {
                report.later(path, "SRS secret: \(dataDirectory) is not writable by this user; `apus serve` creates it at first start")
                return
            }
            _ = try SRSSecret.loadOrCreate(path: path)
            report.created(path, "SRS secret, for forwarding")
        } catch {
            report.later(path, "SRS secret not created (\(error)); `apus serve` creates it at first start")
        }
    }

    /// The password for a new first user (--password, or asked for), or nil when the user exists already.
    func newPassword(for user: String, domain: String, configDirectory: String, config: ApusConfig) throws -> String? {
        let usersPath = "\(configDirectory)/domains/\(domain)/users"
        if let text = try? String(contentsOfFile: usersPath, encoding: .utf8),
           let users = try? UsersFile.parse(text, path: usersPath, aliases: UserTool.aliasSettings(config)),
           users.entries.contains(where: { $0.name == user }) {
            return nil
        }
        return try password ?? PasswordPrompt.readNew(for: "\(user)@\(domain)")
    }

    /// The first user; kept (password unchanged) when it exists.
    func setUpUser(_ user: String, secret: String?, domain: String, domainDirectory: String, config: ApusConfig,
                   configDirectory: String, report: inout InitReport) throws {
        let aliases = UserTool.aliasSettings(config)
        let address = "\(user)@\(domain)"
        let usersPath = "\(domainDirectory)/users"
        let existing = try UsersFile.parse(String(contentsOfFile: usersPath, encoding: .utf8), path: usersPath, aliases: aliases)
        if existing.entries.contains(where: { $0.name == user }) {
            report.add("kept   ", address, "user already there; password not changed: use `apus user passwd` for that")
            return
        }
        guard let secret else { throw CLIError("no password for \(address)") }
        let phc = try PasswordHash.make(password: secret, logN: scryptLogN)
        try UserFileEditor.add(user: user, domain: domain, phc: phc, configDirectory: configDirectory, aliases: aliases)
        report.created(address, "user")
    }

    // MARK: helpers

    /// `alice` or `alice@DOMAIN` → `alice`, checked as `apus user add` checks it.
    static func userName(_ text: String, domain: String, config: ApusConfig) throws -> String {
        var name = text.lowercased()
        if let at = text.lastIndex(of: "@") {
            let other = try DomainArgument.normalize(String(text[text.index(after: at)...]), what: "--user domain")
            guard other == domain else { throw CLIError("--user \(text) is not in \(domain); give only the name") }
            name = text[..<at].lowercased()
        }
        if let why = UserName.problem(name, aliases: UserTool.aliasSettings(config)) { throw CLIError("--user \(text): \(why)") }
        return name
    }
}
