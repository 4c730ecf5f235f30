import ArgumentParser
import Config
import DNSCore
import DNSResolver
import Foundation
import Logging
import MailServer

/// `apus verify --ip IP --helo NAME --mail-from ADDR < msg` (DESIGN.md §3b): the SPF, DKIM and DMARC
/// verdict the server would record for this message, as the header fields it would add.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Show the Authentication-Results the server would add to a message.",
        discussion: """
            Reads a message on standard input and runs the checks of incoming mail: SPF for the client
            address and envelope sender, every DKIM signature, and the From domain's DMARC policy.
            Prints the Authentication-Results and Received-SPF fields, then, if the server would refuse
            the message, the reply it would give. Exit status 0 when it would be accepted, 1 otherwise.

            Example:
              apus verify --ip 192.0.2.1 --helo mail.example.com --mail-from alice@example.com < message.eml
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("The client's IP address.", valueName: "IP"))
    var ip: String
    @Option(help: ArgumentHelp("The client's HELO/EHLO name.", valueName: "NAME"))
    var helo: String
    @Option(name: .customLong("mail-from"), help: ArgumentHelp("The envelope sender (empty or <> for bounces).", valueName: "ADDR"))
    var mailFrom: String
    @Option(name: .long, help: ArgumentHelp("DNS server to ask instead of [dns] servers or /etc/resolv.conf.", valueName: "HOST:PORT"))
    var dns: [String] = []

    func validate() throws {
        guard IPAddress(ip) != nil else { throw ValidationError("--ip \(ip): not an IPv4 or IPv6 address") }
        for server in dns where DNSServerAddress(server) == nil {
            throw ValidationError("--dns \(server): expected an IP address with optional port, like 127.0.0.1:5353")
        }
    }

    func run() async throws {
        var logger = Logger(label: "apus.verify")
        logger.logLevel = .error
        let config = try? ApusConfig.load(configDirectory: options.configDirectory)
        var servers = dns.compactMap { DNSServerAddress($0) }
        if servers.isEmpty, let configured = config?.dns.servers, !configured.isEmpty {
            servers = configured.map { DNSServerAddress(host: $0.host, port: $0.port) }
        }
        let resolver = servers.isEmpty ? DNSResolver.system(logger: logger) : DNSResolver(servers: servers, logger: logger)
        let message = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        let hostname = config?.hostname ?? ApusConfig.machineHostname()
        let (fields, refusal) = await MessageVerification.check(message: message, clientIP: ip, helo: helo,
                                                                mailFrom: mailFrom, hostname: hostname, resolver: resolver)
        for field in fields { print(field.replacingOccurrences(of: "\r\n", with: "\n")) }
        if let refusal {
            print("would refuse: \(refusal)")
            throw ExitCode.failure
        }
    }
}
