import ArgumentParser
import Config
import DKIM
import DNSCore
import DNSResolver
import Foundation
import Logging
import NIOCore

/// `apus check DOMAIN [--ip ADDR …] [--dns HOST:PORT] [--json]` (DESIGN.md §3b, §4): the live checks of
/// `DomainChecker` and `ServerChecker`, one line per finding starting with ✓, ✗ or !, exit 1 on any ✗.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the live DNS, reverse DNS, certificate and ports of a domain; say what to fix.",
        discussion: """
            Looks at what other mail servers see and prints one line per finding: ✓ (fine), ✗ (a problem: \
            mail will not arrive, leave or be trusted) or ! (a warning, or something that cannot be checked \
            from here), each problem and warning followed by a line saying what to do:

              mx           the MX of DOMAIN is this server's host name
              address      the host name's A/AAAA are this server's addresses
              ptr          reverse DNS of each address leads back to the host name
              spf          one valid SPF record that passes for each address
              dkim         each key in CONFIG/domains/DOMAIN/dkim/ is published
              dmarc        one valid DMARC record (p=none is a warning)
              tls-rpt      a TLS-RPT record with rua= (optional)
              mta-sts      the _mta-sts record and policy list the host name
              certificate  a certificate for the host name in CONFIG/certs/,
                           valid 14 more days and trusted (self-signed: a warning)
              listener     mx, submission, submissions answer 220 (from here:
                           a firewall may still block them from outside)
              outbound     this machine can connect to port 25 of another server
              delivery     with [delivery] relay_host: the smarthost answers over TLS
                           and accepts the login of relay_auth_file (instead of outbound)
              dnsbl        blocklists answer the resolver; this server is not listed

            This server's addresses are the global addresses of its interfaces; behind NAT (AWS, Google \
            Cloud) give the public ones with --ip. DNS questions go to --dns, else [dns] servers in \
            apus.toml, else /etc/resolv.conf. The exit status is 1 when there is any ✗, else 0.
            """)

    @OptionGroup var options: ConfigOptions
    @Argument(help: "The mail domain to check (the part after @).") var domain: String
    @Option(name: .customLong("ip"), help: ArgumentHelp("This server's public address, IPv4 or IPv6 (repeatable; default: the global addresses of its interfaces).", valueName: "ADDR"))
    var addresses: [String] = []
    @Option(name: .long, help: ArgumentHelp("DNS server to ask instead of the configured ones (repeatable).", valueName: "HOST:PORT"))
    var dns: [String] = []
    @Option(name: .customLong("outbound-probe"), help: ArgumentHelp("A domain whose mail server is used to test outbound port 25.", valueName: "DOMAIN"))
    var outboundProbe = "gmail.com"
    @Option(help: "Seconds to wait for each connection and DNS try.") var timeout: Double = 10
    @Flag(help: "Print the findings as JSON (fields: domain, hostname, dns_servers, passed, problems, warnings, findings).")
    var json = false

    func validate() throws {
        _ = try DomainArgument.normalize(domain)
        _ = try DomainArgument.addresses(ipv4: addresses, ipv6: [])
        _ = try DomainArgument.normalize(outboundProbe, what: "--outbound-probe")
        for server in dns where DNSServerAddress(server) == nil {
            throw ValidationError("--dns \(server): expected an IP address with optional port, like 127.0.0.1:5353 or [::1]:5353")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let domain = try DomainArgument.normalize(domain)
        let declared = try DomainArgument.addresses(ipv4: addresses, ipv6: [])
        let configDirectory = options.configDirectory
        let config = try ApusConfig.load(configDirectory: configDirectory)
        let hostname = try DomainArgument.hostname(of: config, configDirectory: configDirectory, domain: domain)
        let keys = try DomainArgument.dkimKeys(configDirectory: configDirectory, domain: domain)

        var logger = Logger(label: "apus.check")
        logger.logLevel = .critical
        let wait = TimeAmount.milliseconds(Int64(timeout * 1000))
        var servers = dns.compactMap { DNSServerAddress($0) }
        if servers.isEmpty { servers = config.dns.servers.map { DNSServerAddress(host: $0.host, port: $0.port) } }
        let resolver: DNSResolver
        if servers.isEmpty {
            let conf = DNSResolver.systemServers()
            servers = conf.servers
            resolver = DNSResolver(servers: conf.servers, timeout: .milliseconds(Int64(min(timeout, 5) * 1000)), attempts: conf.attempts, logger: logger)
        } else {
            resolver = DNSResolver(servers: servers, timeout: .milliseconds(Int64(min(timeout, 5) * 1000)), attempts: 2, logger: logger)
        }

        let interfaces = declared.isEmpty ? LocalAddresses.publicInterfaceAddresses() : []
        let records = DomainChecker(
            domain: domain, hostname: hostname, dns: resolver, dkimKeys: keys,
            dkimDirectory: DKIMKeyStore.directory(configDirectory: configDirectory, domain: domain),
            declaredAddresses: declared, publicInterfaceAddresses: interfaces,
            isLocal: { LocalAddresses.isLocal($0) })
        let server = ServerChecker(
            domain: domain, hostname: hostname, dns: resolver, listeners: ServerChecker.listeners(config),
            certsDirectory: "\(configDirectory)/certs", caFile: config.delivery.caFile,
            smtpPort: config.delivery.smtpPort, outboundProbe: outboundProbe, timeout: wait)

        var findings: [CheckFinding] = []
        let serverList = servers.map(\.description).joined(separator: ", ")
        let probe = await resolver.lookup(domain, .soa)
        switch probe {
        case .timeout, .refused:
            // One line instead of a warning per record: nothing DNS-based can be checked.
            let what = probe == .timeout ? "does not answer" : "refuses to answer (REFUSED)"
            findings.append(.problem("dns", "the DNS server (\(serverList)) \(what): no DNS record could be checked",
                                     fix: "check /etc/resolv.conf or [dns] servers in apus.toml, or give a working server with --dns HOST:PORT"))
            findings += await server.checkCertificate()
            findings += await server.checkListeners()
        default:
            let (recordFindings, found) = await records.checkRecords()
            findings += recordFindings
            findings += await server.checkMTASTS()
            findings += await server.checkCertificate()
            findings += await server.checkDANE()
            findings += await server.checkListeners()
            if let relay = await RelayCheck.check(config, configDirectory: configDirectory, dns: resolver) {
                findings.append(relay)
            } else {
                findings.append(.ok("delivery", "mail for other domains goes straight to each domain's MX hosts (port \(config.delivery.smtpPort))"))
                findings += await server.checkOutbound(preferIPv6: found.ours.contains { !$0.isIPv4 })
            }
            findings += await server.checkBlocklists(found.ours)
        }
        findings += await SendingHygiene.check(dataDir: config.dataDir, domain: domain)

        let again = "apus check \(domain)" + (options.config.map { " --config \($0)" } ?? "")
            + declared.map { " --ip \($0)" }.joined() + dns.map { " --dns \($0)" }.joined()
        let report = CheckReport(domain: domain, hostname: hostname, dnsServers: servers.map(\.description),
                                 findings: findings, again: again)
        print(json ? report.json() : report.text(), terminator: "")
        if !report.passed { throw ExitCode.failure }
    }
}
