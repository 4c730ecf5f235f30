/// DNSResolver: Apus's stub resolver on SwiftNIO (DESIGN.md §2, layer 1), the real `DNSResolving`.
///
/// A stub resolver sends each question to a recursive server and reads its reply (RFC 1035 §7, RFC 1123
/// §6.1.3). This one:
/// - sends over UDP with EDNS0 (payload 1232), and again over TCP when the reply has TC=1 (RFC 7766 §5);
/// - uses a random query id and a fresh socket (random source port) per query, and accepts only a reply
///   from the server's address whose id and question match (RFC 5452); anything else is ignored;
/// - tries each server in turn, `attempts` rounds, `timeout` per try (resolv.conf(5) semantics); a
///   SERVFAIL or REFUSED moves on to the next server;
/// - follows CNAME chains, at most `maxCNAMEChain` links (RFC 1034 §3.6.2);
/// - caches answers by TTL and NXDOMAIN/no-data by the SOA's negative TTL (RFC 2308), bounded in size;
/// - coalesces identical concurrent lookups into one query;
/// - reports the AD bit (RFC 4035 §3.2.3) for DANE later.
/// Servers come from `/etc/resolv.conf` (`systemServers()`), `[dns] servers` in apus.toml, or `--dns`.
import DNSCore
import Logging
import NIOCore
import NIOPosix

public actor DNSResolver: DNSResolving {
    /// RFC 1034 does not fix a bound; 8 is what common resolvers use.
    public static let maxCNAMEChain = 8

    public let servers: [DNSServerAddress]
    public let timeout: Duration
    public let attempts: Int
    let transport: DNSTransport
    let logger: Logger
    var cache: DNSCache
    /// Lookups on the wire, each with the callers waiting for the same answer.
    var inFlight: [DNSCache.Key: [CheckedContinuation<DNSLookupResult, Never>]] = [:]

    /// - Parameters:
    ///   - servers: servers to ask, in order; empty means those of `/etc/resolv.conf`.
    ///   - timeout: how long to wait for each try.
    ///   - attempts: rounds over all servers.
    ///   - cacheCapacity: entries kept in the cache (0 disables it).
    public init(servers: [DNSServerAddress], timeout: Duration = .seconds(5), attempts: Int = 2,
                cacheCapacity: Int = 10_000,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "apus.dns")) {
        self.servers = servers.isEmpty ? Self.systemServers().servers : servers
        self.timeout = timeout
        self.attempts = max(attempts, 1)
        self.cache = DNSCache(capacity: cacheCapacity)
        self.transport = DNSTransport(group: eventLoopGroup)
        self.logger = logger
    }

    /// A resolver configured entirely from `/etc/resolv.conf` (servers, timeout, attempts).
    public static func system(eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                              logger: Logger = Logger(label: "apus.dns")) -> DNSResolver {
        let conf = systemServers()
        return DNSResolver(servers: conf.servers, timeout: .seconds(conf.timeoutSeconds), attempts: conf.attempts,
                           eventLoopGroup: eventLoopGroup, logger: logger)
    }

    /// Reads `path` (default `/etc/resolv.conf`); with no usable `nameserver` line, the local host.
    public static func systemServers(path: String = "/etc/resolv.conf") -> ResolvConf {
        var conf = ResolvConf(parsing: (try? readTextFile(path)) ?? "")
        if conf.servers.isEmpty { conf.servers = ResolvConf.fallbackServers }
        return conf
    }

    public func lookup(_ name: String, _ type: DNSRecordType) async -> DNSLookupResult {
        let dnsName: DNSName
        do { dnsName = try DNSName(name) } catch { return .malformed("invalid name \(name): \(error)") }
        let key = DNSCache.Key(name: dnsName, type: type)
        if let cached = cache.get(key, now: .now) { return cached }
        if inFlight[key] != nil {
            return await withCheckedContinuation { inFlight[key, default: []].append($0) }
        }
        // The first caller asks in its own task (no task of the resolver's own: on an SMTP session's event
        // loop, the reply then resumes the session without a hop through the global executor); callers
        // arriving meanwhile wait for its answer.
        inFlight[key] = []
        let result = await resolveAndCache(dnsName, type, key: key)
        for waiter in inFlight.removeValue(forKey: key) ?? [] { waiter.resume(returning: result) }
        return result
    }

    /// Drops every cached entry.
    public func flushCache() { cache = DNSCache(capacity: cache.capacity) }

    func resolveAndCache(_ name: DNSName, _ type: DNSRecordType, key: DNSCache.Key) async -> DNSLookupResult {
        let (result, ttl) = await resolve(name, type)
        cache.put(key, result, ttl: ttl, now: .now)
        return result
    }

    /// Asks the servers, following CNAMEs across queries when a reply stops mid-chain.
    func resolve(_ name: DNSName, _ type: DNSRecordType) async -> (DNSLookupResult, UInt32?) {
        var current = name
        var chain: [DNSResourceRecord] = []
        var authenticated = true
        while true {
            let (outcome, ad) = await exchange(current, type, maxChain: Self.maxCNAMEChain - chain.count)
            authenticated = authenticated && ad
            guard let outcome else { return (.timeout, nil) }
            switch outcome {
            case .answer(let records, let links, let canonical):
                let answer = DNSAnswer(name: name, canonicalName: canonical, records: records,
                                       cnameChain: chain + links, authenticatedData: authenticated)
                return (.answer(answer), answer.ttl)
            case .followCNAME(let target, let links):
                chain += links
                guard chain.count < Self.maxCNAMEChain else {
                    return (.malformed("CNAME chain longer than \(Self.maxCNAMEChain) at \(target)"), nil)
                }
                logger.trace("following CNAME", metadata: ["from": "\(current)", "to": "\(target)"])
                current = target
            case .nxdomain(let links, let ttl):
                return (.nxdomain, Self.minTTL(ttl, chain + links))
            case .noData(let links, let ttl):
                return (.noData, Self.minTTL(ttl, chain + links))
            case .serverFailure: return (.serverFailure, nil)
            case .refused: return (.refused, nil)
            case .unusable(let why): return (.malformed(why), nil)
            }
        }
    }

    static func minTTL(_ negative: UInt32?, _ chain: [DNSResourceRecord]) -> UInt32? {
        guard let negative else { return nil }
        return ([negative] + chain.map(\.ttl)).min()
    }

    /// One question to the servers: each server in turn, `attempts` rounds. A usable reply ends the
    /// search; SERVFAIL, REFUSED, an unusable reply or a timeout moves on. When all fail, the most telling
    /// failure is returned (a server's word over silence); nil means every try timed out.
    func exchange(_ name: DNSName, _ type: DNSRecordType, maxChain: Int) async -> (DNSResponseOutcome?, Bool) {
        var failure: DNSResponseOutcome?
        let wait = TimeAmount(timeout)
        for _ in 0..<attempts {
            for server in servers {
                let address: SocketAddress
                do { address = try server.socketAddress() } catch { continue }
                var query = DNSMessage.query(id: .random(in: .min ... .max), name: name, type: type)
                logger.trace("-> \(name) \(type)", metadata: ["server": "\(server)", "id": "\(query.header.id)"])
                var result = await ask(query, address, server, wait)
                if case .reply(let reply) = result, reply.responseCode == .formatError {
                    // An old server or middlebox that does not know EDNS0 answers FORMERR (RFC 6891 §7): ask
                    // again without the OPT record.
                    logger.debug("FORMERR with EDNS0, retrying without", metadata: ["server": "\(server)"])
                    query = DNSMessage.query(id: .random(in: .min ... .max), name: name, type: type, edns: false)
                    result = await ask(query, address, server, wait)
                }
                switch result {
                case .reply(let reply):
                    let outcome = DNSResponseOutcome(message: reply, name: name, type: type, maxChain: maxChain)
                    logger.trace("<- \(reply.responseCode) \(reply.answers.count) answers",
                                 metadata: ["server": "\(server)"])
                    switch outcome {
                    case .serverFailure, .refused, .unusable:
                        failure = outcome
                    default:
                        return (outcome, reply.header.authenticatedData)
                    }
                case .timeout:
                    logger.debug("timeout", metadata: ["server": "\(server)", "name": "\(name)", "type": "\(type)"])
                case .malformed(let why):
                    logger.debug("bad reply: \(why)", metadata: ["server": "\(server)"])
                    failure = failure ?? .unusable(why)
                }
            }
        }
        return (failure, false)
    }

    /// One query over UDP, and again over TCP when the reply has TC=1 (RFC 7766 §5).
    func ask(_ query: DNSMessage, _ address: SocketAddress, _ server: DNSServerAddress, _ wait: TimeAmount) async -> DNSExchangeResult {
        let result = await transport.udp(query, to: address, timeout: wait)
        if case .reply(let reply) = result, reply.header.truncated {
            logger.trace("truncated, retrying over TCP", metadata: ["server": "\(server)"])
            return await transport.tcp(query, to: address, timeout: wait)
        }
        return result
    }
}
