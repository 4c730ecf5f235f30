import ArgumentParser
import DNSCore
import DNSResolver
import Logging

/// `apus dns …`: DNS tools built on Apus's own resolver (DESIGN.md §3b).
struct DNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Query DNS with Apus's own resolver.",
        subcommands: [DNSLookupCommand.self]
    )
}

/// `apus dns lookup TYPE NAME [--dns HOST:PORT]`: a dig-like answer. Exit status 0 when there is an
/// answer, 1 for NXDOMAIN, no data, SERVFAIL, REFUSED, timeout or a malformed reply.
struct DNSLookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Look up records of one type, like dig.",
        discussion: """
            TYPE is A, AAAA, MX, TXT, PTR, CNAME, NS, SOA, TLSA or TYPEnnn. For PTR, NAME may be an IP \
            address; its in-addr.arpa / ip6.arpa name is asked. The first line is the status: NOERROR, \
            NXDOMAIN, NODATA (the name exists, without records of that type), SERVFAIL, REFUSED or timeout.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "Record type (A, AAAA, MX, TXT, PTR, CNAME, NS, SOA, TLSA, TYPEnnn).")
    var type: String

    @Argument(help: "Name to look up (Unicode names are converted to xn-- form).")
    var name: String

    @Option(name: .long, help: ArgumentHelp("DNS server to ask instead of /etc/resolv.conf (repeatable).",
                                            valueName: "HOST:PORT"))
    var dns: [String] = []

    @Option(name: .long, help: "Seconds to wait for each try.")
    var timeout: Double = 5

    func validate() throws {
        guard DNSRecordType(type) != nil else { throw ValidationError("unknown record type \(type)") }
        for server in dns where DNSServerAddress(server) == nil {
            throw ValidationError("--dns \(server): expected an IP address with optional port, like 127.0.0.1:5353 or [::1]:5353")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let recordType = DNSRecordType(type)!
        var logger = Logger(label: "apus.dns")
        logger.logLevel = .error
        // apus.toml's `[dns] servers` is not read yet; without --dns the resolver uses /etc/resolv.conf.
        let conf = DNSResolver.systemServers()
        let servers = dns.isEmpty ? conf.servers : dns.compactMap { DNSServerAddress($0) }
        let resolver = DNSResolver(servers: servers, timeout: .milliseconds(Int64(timeout * 1000)),
                                   attempts: dns.isEmpty ? conf.attempts : 2, cacheCapacity: 0, logger: logger)
        var query = name
        if recordType == .ptr, let ip = IPAddress(name) { query = ReverseName.name(for: ip).description }
        let result = await resolver.lookup(query, recordType)
        print(Self.format(result, name: query, type: recordType,
                          servers: servers.map(\.description).joined(separator: ", ")), terminator: "")
        if result.answer == nil { throw ExitCode.failure }
    }

    /// dig-like text: a `;;` status line, then the records in zone-file form.
    static func format(_ result: DNSLookupResult, name: String, type: DNSRecordType, servers: String) -> String {
        let status: String
        switch result {
        case .answer: status = "NOERROR"
        case .nxdomain: status = "NXDOMAIN"
        case .noData: status = "NODATA"
        case .serverFailure: status = "SERVFAIL"
        case .refused: status = "REFUSED"
        case .timeout: status = "timeout"
        case .malformed(let why): status = "malformed (\(why))"
        }
        var out = ";; \(name) \(type): status \(status)"
        if let answer = result.answer {
            out += ", \(answer.records.count) answer\(answer.records.count == 1 ? "" : "s")"
            out += answer.authenticatedData ? ", flags: ad" : ""
        }
        out += "; server \(servers)\n"
        if let answer = result.answer {
            for record in answer.cnameChain + answer.records { out += record.description + "\n" }
        }
        return out
    }
}
