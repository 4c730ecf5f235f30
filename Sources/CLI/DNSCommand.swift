import ArgumentParser
import DNSCore
import DNSResolver
import Logging

/// `apus dns …`: DNS tools built on Apus's own resolver (DESIGN.md §3b).
struct DNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "DNS: look up records with Apus's own resolver, or print the records to publish.",
        subcommands: [DNSLookupCommand.self, DNSRecordsCommand.self, DNSBenchCommand.self]
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

/// `apus dns bench TYPE NAME --dns HOST:PORT`: measures the resolver (hidden; used by bench/dns/run.sh).
/// Prints the cost of a cached lookup, and uncached lookups per second one at a time and with
/// `--concurrency` lookups in flight. Not a test: numbers depend on the machine.
struct DNSBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure resolver throughput (for bench/dns/run.sh).", shouldDisplay: false)

    @OptionGroup var options: ConfigOptions
    @Argument var type: String
    @Argument var name: String
    @Option(name: .long) var dns: String
    @Option(name: .long, help: "Uncached lookups to time.") var count = 2000
    @Option(name: .long, help: "Cached lookups to time.") var cachedCount = 200_000
    @Option(name: .long, help: "Lookups in flight for the concurrent run.") var concurrency = 16

    func run() async throws {
        guard let recordType = DNSRecordType(type), let server = DNSServerAddress(dns) else {
            throw ValidationError("bad TYPE or --dns")
        }
        var logger = Logger(label: "apus.dns.bench")
        logger.logLevel = .error
        let clock = ContinuousClock()

        let cached = DNSResolver(servers: [server], timeout: .seconds(2), logger: logger)
        guard await cached.lookup(name, recordType).answer != nil else {
            print("no answer for \(name) \(type) from \(server)")
            throw ExitCode.failure
        }
        let cachedTime = await clock.measure {
            for _ in 0..<cachedCount { _ = await cached.lookup(name, recordType) }
        }
        print("cached lookup: \(Int(Self.nanoseconds(cachedTime) / Double(cachedCount))) ns each (\(cachedCount) lookups)")

        let uncached = DNSResolver(servers: [server], timeout: .seconds(2), cacheCapacity: 0, logger: logger)
        var failures = 0
        let serialTime = await clock.measure {
            for _ in 0..<count where await uncached.lookup(name, recordType).answer == nil { failures += 1 }
        }
        print("uncached, sequential: \(Self.rate(count, serialTime)) lookups/s (\(count) lookups, \(failures) failed)")

        // One resolver per task: lookups of one name through one resolver would be coalesced.
        let perTask = max(count / concurrency, 1)
        let resolvers = (0..<concurrency).map { _ in
            DNSResolver(servers: [server], timeout: .seconds(2), cacheCapacity: 0, logger: logger)
        }
        let query = name
        let concurrentTime = await clock.measure {
            await withTaskGroup(of: Void.self) { group in
                for resolver in resolvers {
                    group.addTask { for _ in 0..<perTask { _ = await resolver.lookup(query, recordType) } }
                }
            }
        }
        print("uncached, \(concurrency) in flight: \(Self.rate(perTask * concurrency, concurrentTime)) lookups/s")
    }

    static func nanoseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
    }

    static func rate(_ count: Int, _ duration: Duration) -> Int {
        Int(Double(count) / (nanoseconds(duration) / 1e9))
    }
}
