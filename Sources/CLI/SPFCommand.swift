import ArgumentParser
import DNSCore
import DNSResolver
import Foundation
import Logging
import SPF

/// `apus spf …`: SPF tools (RFC 7208; DESIGN.md §3b).
struct SPFCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spf",
        abstract: "Sender Policy Framework (RFC 7208) tools.",
        subcommands: [SPFCheckCommand.self]
    )
}

/// `apus spf check --ip IP --sender ADDR [--helo NAME] [--dns HOST:PORT]`: runs check_host as the server
/// would at MAIL FROM. The first line is the result (pass, fail, softfail, neutral, none, permerror,
/// temperror), then the explanation if there is one. Exit status 0 whenever the check ran.
struct SPFCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check whether an IP address may send mail for a sender's domain.",
        discussion: """
            Prints the result (pass, fail, softfail, neutral, none, permerror or temperror) on the first \
            line, then the explanation, if any: the domain's exp= text for a fail, or what went wrong for \
            permerror and temperror. An empty --sender "" (a bounce) checks postmaster@HELO; --helo is \
            then required. Exit status 0 whenever the check ran, whatever its result.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("The client's IP address (IPv4 or IPv6).", valueName: "IP"))
    var ip: String

    @Option(help: ArgumentHelp("The MAIL FROM address; \"\" for the null sender.", valueName: "ADDR"))
    var sender: String

    @Option(help: ArgumentHelp("The HELO/EHLO name (default: the sender's domain).", valueName: "NAME"))
    var helo: String?

    @Option(name: .long, help: ArgumentHelp("DNS server to ask instead of /etc/resolv.conf (repeatable).",
                                            valueName: "HOST:PORT"))
    var dns: [String] = []

    @Option(name: .long, help: "Seconds to wait for each DNS try.")
    var timeout: Double = 5

    @Option(help: ArgumentHelp("Our host name, for %{r} and the Received-SPF header (default: this host).",
                               valueName: "NAME"))
    var receiver: String?

    @Flag(name: .customLong("received-spf"),
          help: "Also print the Received-SPF header field the server would add.")
    var receivedSPF = false

    func validate() throws {
        guard IPAddress(ip) != nil else { throw ValidationError("--ip \(ip): not an IPv4 or IPv6 address") }
        if (sender.isEmpty || sender == "<>") && (helo ?? "").isEmpty {
            throw ValidationError(
                "--sender \"\" (null sender) needs --helo NAME: the check is then for postmaster@NAME")
        }
        for server in dns where DNSServerAddress(server) == nil {
            throw ValidationError("--dns \(server): expected an IP address with optional port, like 127.0.0.1:5353 or [::1]:5353")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        var logger = Logger(label: "apus.spf")
        logger.logLevel = .error
        // apus.toml's `[dns] servers` is not read yet; without --dns the resolver uses /etc/resolv.conf.
        let conf = DNSResolver.systemServers()
        let servers = dns.isEmpty ? conf.servers : dns.compactMap { DNSServerAddress($0) }
        let resolver = DNSResolver(servers: servers, timeout: .milliseconds(Int64(timeout * 1000)),
                                   attempts: dns.isEmpty ? conf.attempts : 2, logger: logger)
        let host = receiver ?? ProcessInfo.processInfo.hostName
        let verifier = SPFVerifier(resolver: resolver, options: SPFOptions(
            receiver: host, timestamp: Int(Date().timeIntervalSince1970)))
        var mailFrom = sender
        if mailFrom.hasPrefix("<") && mailFrom.hasSuffix(">") { mailFrom = String(mailFrom.dropFirst().dropLast()) }
        let heloName = helo ?? mailFrom.split(separator: "@").last.map(String.init) ?? ""
        let result = await verifier.checkMailFrom(ip: IPAddress(ip)!, mailFrom: mailFrom, helo: heloName)
        print(Self.format(result))
        if receivedSPF { print(result.receivedSPFHeader(receiver: host)) }
    }

    /// The result line, then the explanation (fail) or the problem (permerror, temperror), if any.
    static func format(_ result: SPFCheckResult) -> String {
        var lines = [result.result.rawValue]
        if let explanation = result.explanation {
            lines.append(explanation)
        } else if let problem = result.problem, result.result == .permerror || result.result == .temperror {
            lines.append(problem)
        }
        return lines.joined(separator: "\n")
    }
}
