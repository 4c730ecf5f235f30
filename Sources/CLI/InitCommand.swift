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
    @Option(name: .customLong("scrypt-log-n"), help: .hidden) var scryptLogN = PasswordHash.defaultLogN

    func validate() throws {
        _ = try DomainArgument.normalize(domain)
        if let hostname { _ = try DomainArgument.normalize(hostname, what: "--hostname") }
        _ = try DomainArgument.addresses(ipv4: addresses, ipv6: [])
        if password != nil && user == nil { throw ValidationError("--password needs --user") }
        if dataDir == "" { throw ValidationError("--data-dir must not be empty") }
        try UserTool.validate(logN: scryptLogN, password: password)
    }

    func run() async throws {
        let domain = try DomainArgument.normalize(domain)
        let ips = try DomainArgument.addresses(ipv4: addresses, ipv6: [])
        let configDirectory = Self.absolute(options.configDirectory)
        var report = InitReport()
        print("Setting up \(domain) in \(configDirectory)\n")

        let config = try setUpConfig(configDirectory: configDirectory, domain: domain, report: &report)
        let hostname = try DomainArgument.hostname(of: config, configDirectory: configDirectory, domain: domain)
        // A bad user name is refused before anything else is written.
        let userName = try user.map { try Self.userName($0, domain: domain, config: config) }
        let domainDirectory = "\(configDirectory)/domains/\(domain)"
        try setUpDomain(domainDirectory, domain: domain, user: userName, report: &report)
        try setUpDKIM(configDirectory: configDirectory, domain: domain, report: &report)
        let certificate = setUpCertificate(configDirectory: configDirectory, hostname: hostname, report: &report)
        setUpSRS(dataDirectory: config.dataDir, report: &report)
        if let userName {
            try setUpUser(userName, domain: domain, domainDirectory: domainDirectory, config: config,
                          configDirectory: configDirectory, report: &report)
        }
        print("")
        print(NextSteps(domain: domain, hostname: hostname, configDirectory: configDirectory,
                        customConfig: configDirectory != "/etc/apus", addresses: ips,
                        user: userName.map { "\($0)@\(domain)" }, certificate: certificate).text,
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
            if let dataDir, Self.absolute(dataDir) != config.dataDir {
                report.note("--data-dir \(dataDir) not applied: apus.toml says data_dir = \"\(config.dataDir)\"; edit it to change")
            }
            return config
        }
        let hostname = try self.hostname.map { try DomainArgument.normalize($0, what: "--hostname") } ?? "mx.\(domain)"
        let config = ApusConfig(hostname: hostname, dataDir: Self.absolute(dataDir ?? "/var/lib/apus"))
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

    /// The first user; kept (password unchanged) when it exists.
    func setUpUser(_ user: String, domain: String, domainDirectory: String, config: ApusConfig,
                   configDirectory: String, report: inout InitReport) throws {
        let aliases = UserTool.aliasSettings(config)
        let address = "\(user)@\(domain)"
        let usersPath = "\(domainDirectory)/users"
        let existing = try UsersFile.parse(String(contentsOfFile: usersPath, encoding: .utf8), path: usersPath, aliases: aliases)
        if existing.entries.contains(where: { $0.name == user }) {
            report.add("kept   ", address, "user already there; password not changed: use `apus user passwd` for that")
            return
        }
        let secret = try password ?? PasswordPrompt.readNew(for: address)
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

    static func absolute(_ path: String) -> String {
        var result = URL(fileURLWithPath: path).standardizedFileURL.path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create \(path): \(error.localizedDescription)")
        }
    }

    /// Creates `path` with `contents` unless it exists (O_EXCL); true when created. Written and fsync'd.
    static func createFile(_ path: String, contents: String, mode: mode_t) throws -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var ok = false
        defer { if !ok { unlink(path) } }
        defer { close(fd) }
        _ = fchmod(fd, mode)   // open() applied the umask
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
        ok = true
        return true
    }

    /// Whether this user can create files in `path`: it is a writable directory, or its nearest existing
    /// ancestor is.
    static func canCreate(_ path: String) -> Bool {
        var current = path
        while !FileManager.default.fileExists(atPath: current) {
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { return false }
            current = parent
        }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: current, isDirectory: &isDirectory) && isDirectory.boolValue
            && access(current, W_OK | X_OK) == 0
    }

    static func usersFileText(domain: String) -> String {
        """
        # Users of \(domain): one a line, the name, then its scrypt password hash:
        #   alice  $scrypt$ln=15,r=8,p=1$<salt>$<hash>
        # Manage them with `apus user add|remove|passwd NAME@\(domain)` rather than by hand.

        """
    }

    static func aliasesFileText(domain: String, user: String?) -> String {
        let you = user ?? "alice"
        return """
            # Aliases of \(domain): `name: target, target…`, one alias a line. Lines starting with # are
            # comments. A target without @ is a user or alias of \(domain); an address elsewhere is forwarded
            # (its sender rewritten with SRS so the receiver's SPF check passes). Examples:
            #
            #   info: \(you)                       info@\(domain) reaches the user \(you)
            #   sales: \(you), bob@example.org      several targets
            #   postmaster: \(you)                 postmaster@ gets the DMARC and TLS reports; without an alias
            #                                     (or catch-all) they go to the mailbox "postmaster"
            #   list: | /usr/local/bin/handler    pipe each message to a command (run with /bin/sh -c)
            #   *: someone@gmail.com              catch-all: every address of \(domain) that is not a user or
            #                                     an alias (used only when nothing else matches)
            #
            # Before the lookup, "." is removed from the name and "+" starts an ignored suffix (settings in
            # [aliases] of apus.toml): j.doe+news@\(domain) reaches jdoe. The server reads this file at start
            # and on SIGHUP; `apus alias resolve ADDRESS` shows where an address goes.

            """
    }
}

/// What `apus init` did, one line per item, printed as it happens (so a failure shows what was done).
struct InitReport {
    private(set) var failed = false

    mutating func created(_ what: String, _ detail: String = "") { add("created", what, detail) }
    mutating func kept(_ what: String, _ detail: String = "") {
        add("kept   ", what, detail.isEmpty ? "already there, not changed" : detail + "; already there, not changed")
    }
    mutating func later(_ what: String, _ detail: String) { add("later  ", what, detail) }
    mutating func note(_ text: String) { print("  note     \(text)") }
    mutating func problem(_ text: String) {
        print("  PROBLEM  \(text)")
        failed = true
    }

    mutating func add(_ verb: String, _ what: String, _ detail: String) {
        print("  \(verb)  \(what)" + (detail.isEmpty ? "" : "  (\(detail))"))
    }
}

/// The numbered steps printed at the end of `apus init`.
struct NextSteps {
    var domain: String
    var hostname: String
    var configDirectory: String
    /// Whether to write `--config DIR` into the commands shown.
    var customConfig: Bool
    var addresses: [IPAddress]
    var user: String?
    var certificate: InitCommand.CertificateOutcome

    var text: String {
        let config = customConfig ? " --config \(configDirectory)" : ""
        let ipOptions = addresses.map { $0.isIPv4 ? " --ip \($0)" : " --ip6 \($0)" }.joined()
        let certs = "\(configDirectory)/certs/\(hostname)"
        let address = user ?? "you@\(domain)"
        var steps: [String] = []

        steps.append("""
            Publish the DNS records. This prints them as a zone-file snippet, each with a comment that says
            what it is for (add --table for a name / type / value list):
                apus dns records \(domain)\(config)\(ipOptions.isEmpty ? " --ip YOUR.PUBLIC.IPV4 [--ip6 YOUR:IPV6::]" : ipOptions)
            It ends with the reverse DNS (PTR) to ask your hosting provider for.
            """)
        if certificate != .existing {   // a real certificate is already in place: nothing to do
            steps.append("""
                Get a real certificate for \(hostname)\(certificate == .selfSigned ? ": the self-signed one is fine for mail between\nservers, but mail apps and Gmail refuse it" : ""). Port 80 must be free and reachable for this:
                    certbot certonly --standalone -d \(hostname) --deploy-hook \\
                      'cp "$RENEWED_LINEAGE/fullchain.pem" "$RENEWED_LINEAGE/privkey.pem" \(certs)/ && pkill -HUP -x apus'
                or with acme.sh:
                    acme.sh --issue --standalone -d \(hostname)
                    acme.sh --install-cert -d \(hostname) --fullchain-file \(certs)/fullchain.pem \\
                      --key-file \(certs)/privkey.pem --reloadcmd 'pkill -HUP -x apus'
                Both renew the certificate by themselves, write it into \(certs)/
                and tell a running apus to re-read it (SIGHUP).
                """)
        }
        if user == nil {
            steps.append("""
                Add a user (it asks for the password twice):
                    apus user add \(address)\(config)
                """)
        }
        steps.append("""
            Start the server (ports 25, 587 and 465 need root or CAP_NET_BIND_SERVICE):
                apus serve\(config)
            """)
        steps.append("""
            Check the DNS records, reverse DNS, ports and certificate from outside:
                apus check \(domain)\(config)          (coming: not in this version yet)
            Until then: apus dns lookup MX \(domain), apus dns lookup TXT apus-rsa._domainkey.\(domain)
            """)
        steps.append("""
            Send as \(address) from Gmail: Settings → See all settings → Accounts and Import →
            "Send mail as" → Add another email address, then:
                SMTP Server   \(hostname)
                Port          587 with "Secured connection using TLS"  (or 465 with SSL)
                Username      \(address)   (the full address)
                Password      the password of \(address)
            """)

        var out = "Next steps:\n"
        for (index, step) in steps.enumerated() {
            let lines = step.split(separator: "\n", omittingEmptySubsequences: false)
            out += "\n\(index + 1). \(lines[0])\n"
            for line in lines.dropFirst() { out += "   \(line)\n" }
        }
        return out
    }
}
