/// Typed lookups on top of `DNSResolving.lookup`. Each keeps the failure cases distinct through
/// `DNSFailure`; `isTemporary` tells a caller whether to retry.
public typealias DNSResult<Value> = Result<Value, DNSFailure>

/// An MX record (RFC 5321 §5.1).
public struct MXRecord: Sendable, Hashable {
    public var preference: UInt16
    public var exchange: DNSName
    public init(preference: UInt16, exchange: DNSName) { self.preference = preference; self.exchange = exchange }
    /// RFC 7505: a single MX with exchange `.` means the domain accepts no mail.
    public var isNullMX: Bool { exchange.isRoot }
}

extension DNSResolving {
    /// TXT records of `name`, each record's character-strings joined into one string (RFC 7208 §3.3).
    public func txt(_ name: String) async -> DNSResult<[String]> {
        await lookup(name, .txt).map { answer in answer.data.compactMap(\.joinedText) }
    }

    /// MX records of `name`, sorted by preference (ties keep server order; shuffling is the caller's).
    public func mx(_ name: String) async -> DNSResult<[MXRecord]> {
        await lookup(name, .mx).map { answer in
            answer.data.compactMap { data -> MXRecord? in
                guard case .mx(let preference, let exchange) = data else { return nil }
                return MXRecord(preference: preference, exchange: exchange)
            }.enumerated().sorted { ($0.element.preference, $0.offset) < ($1.element.preference, $1.offset) }
                .map(\.element)
        }
    }

    /// AAAA and A records of `name` (IPv6 first), looked up concurrently. Succeeds when either family has
    /// an answer; otherwise NXDOMAIN wins, then a temporary failure, then no-data.
    public func addresses(_ name: String) async -> DNSResult<[IPAddress]> {
        async let v6 = lookup(name, .aaaa)
        async let v4 = lookup(name, .a)
        let results = [await v6, await v4]
        let found = results.compactMap(\.answer).flatMap(\.data).compactMap { data -> IPAddress? in
            switch data {
            case .a(let ip), .aaaa(let ip): return ip
            default: return nil
            }
        }
        if !found.isEmpty { return .success(found) }
        let failures = results.compactMap(\.failure)
        if failures.contains(.nxdomain) { return .failure(.nxdomain) }
        if let temporary = failures.first(where: \.isTemporary) { return .failure(temporary) }
        return .failure(.noData)
    }

    /// PTR names of an address (its `in-addr.arpa` / `ip6.arpa` name), RFC 1035 §3.5 / RFC 3596 §2.5.
    public func ptr(for ip: IPAddress) async -> DNSResult<[DNSName]> {
        await lookup(ReverseName.name(for: ip).description, .ptr).map { answer in
            answer.data.compactMap { data -> DNSName? in
                guard case .ptr(let name) = data else { return nil }
                return name
            }
        }
    }

    /// Forward-confirmed reverse DNS (RFC 8601 §3 "iprev"): the PTR names of `ip` whose own addresses
    /// include `ip`. Success with an empty list means PTR names exist but none confirms; a failure is the
    /// PTR lookup's. A forward lookup that fails temporarily, when no name confirmed, makes the whole
    /// result that failure (iprev `temperror`).
    public func forwardConfirmedReverse(ip: IPAddress) async -> DNSResult<[DNSName]> {
        let names: [DNSName]
        switch await ptr(for: ip) {
        case .failure(let failure): return .failure(failure)
        case .success(let list): names = list
        }
        var confirmed: [DNSName] = []
        var temporary: DNSFailure?
        for name in names.prefix(10) {  // RFC 8601 §3 suggests a bound; 10 like SPF's lookup limit.
            let forward = await lookup(name.description, ip.isIPv4 ? .a : .aaaa)
            switch forward {
            case .answer(let answer):
                if answer.data.contains(where: { $0 == .a(ip) || $0 == .aaaa(ip) }) { confirmed.append(name) }
            default:
                if let failure = forward.failure, failure.isTemporary { temporary = failure }
            }
        }
        if confirmed.isEmpty, let temporary { return .failure(temporary) }
        return .success(confirmed)
    }
}

extension DNSResolving {
    /// `ptr(for:)` with the address as text; `.malformed` when it is not an IP address.
    public func ptr(for ip: String) async -> DNSResult<[DNSName]> {
        guard let address = IPAddress(ip) else { return .failure(.malformed("not an IP address: \(ip)")) }
        return await ptr(for: address)
    }

    /// `forwardConfirmedReverse(ip:)` with the address as text; `.malformed` when it is not an IP address.
    public func forwardConfirmedReverse(ip: String) async -> DNSResult<[DNSName]> {
        guard let address = IPAddress(ip) else { return .failure(.malformed("not an IP address: \(ip)")) }
        return await forwardConfirmedReverse(ip: address)
    }
}
