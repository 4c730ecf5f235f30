/// A `DNSResolving` fake for tests of other modules: a fixed table of records and injected failures.
/// Pure and synchronous behind the async API. CNAMEs in the table are followed like a real resolver
/// (up to `maxCNAMEChain`). A name with no entry at all is NXDOMAIN; a name with records of other types
/// is NODATA.
///
/// ```swift
/// var dns = StaticResolver()
/// dns.add("example.com", .mx(preference: 10, exchange: "mx.example.com"))
/// dns.add("mx.example.com", .a(IPAddress("192.0.2.1")!))
/// dns.fail("broken.example", .txt, with: .serverFailure)
/// ```
public struct StaticResolver: DNSResolving {
    public var records: [DNSName: [DNSResourceRecord]] = [:]
    /// Injected outcomes for (name, type); a nil type matches every type of that name.
    public var failures: [FailureKey: DNSFailure] = [:]
    public var authenticatedData = false
    public var maxCNAMEChain = 8

    public struct FailureKey: Hashable, Sendable {
        public var name: DNSName
        public var type: DNSRecordType?
    }

    public init() {}

    /// Adds a record (TTL 300 unless given).
    public mutating func add(_ name: DNSName, _ data: DNSRecordData, ttl: UInt32 = 300) {
        records[name, default: []].append(DNSResourceRecord(name: name, ttl: ttl, data: data))
    }

    /// Adds a TXT record from one string, split into 255-byte character-strings.
    public mutating func addTXT(_ name: DNSName, _ text: String, ttl: UInt32 = 300) {
        let bytes = Array(text.utf8)
        let strings = stride(from: 0, to: max(bytes.count, 1), by: 255).map {
            Array(bytes[$0..<min($0 + 255, bytes.count)])
        }
        add(name, .txt(strings), ttl: ttl)
    }

    /// Makes lookups of `name` (of `type`, or of any type when nil) fail with `failure`.
    public mutating func fail(_ name: DNSName, _ type: DNSRecordType? = nil, with failure: DNSFailure) {
        failures[FailureKey(name: name, type: type)] = failure
    }

    public func lookup(_ name: String, _ type: DNSRecordType) async -> DNSLookupResult {
        resolve(name, type)
    }

    /// The synchronous core of `lookup`.
    public func resolve(_ text: String, _ type: DNSRecordType) -> DNSLookupResult {
        let start: DNSName
        do { start = try DNSName(text) } catch { return .malformed("invalid name \(text): \(error)") }
        var current = start
        var chain: [DNSResourceRecord] = []
        for _ in 0...maxCNAMEChain {
            if let failure = failures[FailureKey(name: current, type: type)]
                ?? failures[FailureKey(name: current, type: nil)] {
                return Self.result(for: failure)
            }
            guard let owned = records[current] else { return .nxdomain }
            let matching = owned.filter { $0.type == type }
            if !matching.isEmpty {
                return .answer(DNSAnswer(name: start, canonicalName: current, records: matching,
                                         cnameChain: chain, authenticatedData: authenticatedData))
            }
            guard type != .cname, let cname = owned.first(where: { $0.type == .cname }),
                  case .cname(let target) = cname.data else { return .noData }
            chain.append(cname)
            current = target
        }
        return .serverFailure
    }

    static func result(for failure: DNSFailure) -> DNSLookupResult {
        switch failure {
        case .nxdomain: return .nxdomain
        case .noData: return .noData
        case .serverFailure: return .serverFailure
        case .refused: return .refused
        case .timeout: return .timeout
        case .malformed(let why): return .malformed(why)
        }
    }
}
