/// What a reply means for a question: the pure interpretation a resolver applies to every response,
/// including CNAME chasing within the message (RFC 1034 §3.6.2, §5.3.3) and the negative-caching TTL of
/// RFC 2308 §5.
public enum DNSResponseOutcome: Sendable, Hashable {
    /// Records of the asked type owned by `canonicalName`, reached through `chain`.
    case answer(records: [DNSResourceRecord], chain: [DNSResourceRecord], canonicalName: DNSName)
    /// The message ends a CNAME chain at `target` without records for it: ask again for `target`.
    case followCNAME(target: DNSName, chain: [DNSResourceRecord])
    /// NXDOMAIN; `negativeTTL` is nil without an SOA (then it must not be cached).
    case nxdomain(chain: [DNSResourceRecord], negativeTTL: UInt32?)
    /// No data of that type.
    case noData(chain: [DNSResourceRecord], negativeTTL: UInt32?)
    case serverFailure
    case refused
    /// Any other RCODE (FORMERR, NOTIMP, …) or a reply whose question does not match.
    case unusable(String)

    /// Interprets `message` as the reply to (`name`, `type`), following at most `maxChain` CNAMEs.
    public init(message: DNSMessage, name: DNSName, type: DNSRecordType, maxChain: Int = 8) {
        switch message.responseCode {
        case .noError, .nameError: break
        case .serverFailure: self = .serverFailure; return
        case .refused: self = .refused; return
        case let code: self = .unusable("rcode \(code)"); return
        }
        var current = name
        var chain: [DNSResourceRecord] = []
        var seen: Set<DNSName> = [name]
        while true {
            let owned = message.answers.filter { $0.name == current }
            let matching = owned.filter { $0.type == type }
            if !matching.isEmpty {
                self = .answer(records: matching, chain: chain, canonicalName: current)
                return
            }
            guard type != .cname, let cname = owned.first(where: { $0.type == .cname }),
                  case .cname(let target) = cname.data else { break }
            guard chain.count < maxChain, !seen.contains(target) else {
                self = .unusable("CNAME chain longer than \(maxChain) or looping at \(target)")
                return
            }
            chain.append(cname)
            seen.insert(target)
            current = target
        }
        let negativeTTL = Self.negativeTTL(message)
        if message.responseCode == .nameError {
            self = .nxdomain(chain: chain, negativeTTL: negativeTTL)
        } else if !chain.isEmpty, negativeTTL == nil {
            self = .followCNAME(target: current, chain: chain)
        } else {
            self = .noData(chain: chain, negativeTTL: negativeTTL)
        }
    }

    /// RFC 2308 §5: the TTL of a negative answer is the smaller of the SOA record's TTL and its MINIMUM.
    public static func negativeTTL(_ message: DNSMessage) -> UInt32? {
        for record in message.authorities {
            if case .soa(let soa) = record.data { return min(record.ttl, soa.minimum) }
        }
        return nil
    }
}
