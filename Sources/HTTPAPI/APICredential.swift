import Foundation
import Synchronization

/// What the API knows of a key once its bearer token is checked: the domain it acts in, the senders it may
/// use, its daily limit. Built by the server from `domains/<d>/api-keys` (Directory's `APIKey`).
public struct APICredential: Sendable {
    public var id: String
    public var domain: String
    public var dailyLimit: Int?
    /// Whether this key may send as `address` (domain and sender list).
    public var allowsSender: @Sendable (String) -> Bool
    /// Whether `presented` is this key's secret (constant time).
    public var verify: @Sendable (String) -> Bool

    public init(id: String, domain: String, dailyLimit: Int?, allowsSender: @escaping @Sendable (String) -> Bool,
                verify: @escaping @Sendable (String) -> Bool) {
        self.id = id
        self.domain = domain.lowercased()
        self.dailyLimit = dailyLimit
        self.allowsSender = allowsSender
        self.verify = verify
    }
}

/// Failed key checks per client address: past `maxFailures` within `window` the address is refused with 429
/// without checking the key (as AUTH on the SMTP listeners is limited).
final class CredentialFailureLimiter: Sendable {
    let maxFailures: Int
    let window: TimeInterval
    let failures = Mutex<[String: [Date]]>([:])

    init(maxFailures: Int, window: TimeInterval) {
        self.maxFailures = maxFailures
        self.window = window
    }

    func isBlocked(_ address: String, now: Date = Date()) -> Bool {
        failures.withLock { table in
            let recent = (table[address] ?? []).filter { now.timeIntervalSince($0) < window }
            table[address] = recent.isEmpty ? nil : recent
            return recent.count >= maxFailures
        }
    }

    func recordFailure(_ address: String, now: Date = Date()) {
        failures.withLock { table in
            if table.count > 100_000 { table.removeAll() }   // bounded memory under a spray of addresses
            table[address, default: []].append(now)
        }
    }
}
