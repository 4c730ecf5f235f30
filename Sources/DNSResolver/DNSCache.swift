import DNSCore

/// The resolver's TTL cache: positive answers for their TTL, NXDOMAIN and no-data for the negative TTL
/// of RFC 2308 §5 (the SOA's TTL and MINIMUM, whichever is smaller). Failures (SERVFAIL, timeout) are not
/// cached. Pure: the caller passes the current instant. Bounded: at capacity, expired entries go first,
/// then those closest to expiry.
public struct DNSCache: Sendable {
    public struct Key: Hashable, Sendable {
        public var name: DNSName
        public var type: DNSRecordType
        public init(name: DNSName, type: DNSRecordType) { self.name = name.lowercased; self.type = type }
    }

    struct Entry: Sendable {
        var result: DNSLookupResult
        var expires: ContinuousClock.Instant
    }

    public let capacity: Int
    /// TTLs above this are clamped (RFC 2181 §8 allows up to 2^31-1; a day is plenty for mail).
    public let maxTTL: UInt32
    /// RFC 2308 §5: negative answers should not be cached for more than a few hours.
    public let maxNegativeTTL: UInt32
    var entries: [Key: Entry] = [:]

    public init(capacity: Int = 10_000, maxTTL: UInt32 = 86_400, maxNegativeTTL: UInt32 = 3_600) {
        self.capacity = max(capacity, 0)
        self.maxTTL = maxTTL
        self.maxNegativeTTL = maxNegativeTTL
    }

    public var count: Int { entries.count }

    /// The cached result, with an answer's TTL reduced by the time it has spent here.
    public mutating func get(_ key: Key, now: ContinuousClock.Instant) -> DNSLookupResult? {
        guard let entry = entries[key] else { return nil }
        guard entry.expires > now else {
            entries[key] = nil
            return nil
        }
        guard case .answer(var answer) = entry.result else { return entry.result }
        let remaining = now.duration(to: entry.expires).components.seconds
        answer.ttl = UInt32(clamping: remaining)
        return .answer(answer)
    }

    /// Stores a result for `ttl` seconds (nil or 0: not stored). Only answers, NXDOMAIN and no-data are kept.
    public mutating func put(_ key: Key, _ result: DNSLookupResult, ttl: UInt32?, now: ContinuousClock.Instant) {
        guard capacity > 0, let ttl, ttl > 0 else { return }
        let limit: UInt32
        switch result {
        case .answer: limit = maxTTL
        case .nxdomain, .noData: limit = maxNegativeTTL
        default: return
        }
        if entries[key] == nil, entries.count >= capacity { evict(now: now) }
        entries[key] = Entry(result: result, expires: now + .seconds(Int64(min(ttl, limit))))
    }

    /// Frees room: drops every expired entry, then (if still full) the tenth of entries closest to expiry.
    mutating func evict(now: ContinuousClock.Instant) {
        entries = entries.filter { $0.value.expires > now }
        guard entries.count >= capacity else { return }
        let victims = entries.sorted { $0.value.expires < $1.value.expires }.prefix(max(capacity / 10, 1))
        for victim in victims { entries[victim.key] = nil }
    }
}
