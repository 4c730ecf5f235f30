import DNSCore

// How the verifier gets key records: a closure from the query name (`<s>._domainkey.<d>`, no trailing dot)
// to the TXT strings found there. Each element of `found` is one TXT record, its character-strings already
// concatenated (RFC 6376 §3.6.2.2). Keeping "no such record" apart from "could not ask" is what separates
// permerror from temperror (§6.1.2).

public enum DKIMKeyLookupResult: Sendable, Hashable {
    case found([String])
    case notFound
    case temporaryFailure(String)
}

public typealias DKIMKeyLookup = @Sendable (String) async -> DKIMKeyLookupResult

/// A lookup over a fixed table, for tests and `apus dkim verify --key-file`.
public func staticKeyLookup(_ records: [String: [String]]) -> DKIMKeyLookup {
    let table = Dictionary(records.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, b in a + b })
    return { name in
        guard let txt = table[name.lowercased()], !txt.isEmpty else { return .notFound }
        return .found(txt)
    }
}

/// Key lookups through a real or fake resolver: NXDOMAIN and no-data are "not found" (permerror);
/// SERVFAIL, REFUSED, timeouts and undecodable replies are temporary (temperror).
public func dnsKeyLookup(_ resolver: any DNSResolving) -> DKIMKeyLookup {
    return { name in
        switch await resolver.txt(name) {
        case .success(let records):
            return records.isEmpty ? .notFound : .found(records)
        case .failure(let failure):
            return failure.isTemporary ? .temporaryFailure(failure.description) : .notFound
        }
    }
}
