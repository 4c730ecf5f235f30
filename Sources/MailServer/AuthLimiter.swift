import Foundation
import NIOConcurrencyHelpers

/// Failed AUTH attempts per client address within a window (`[limits] max_auth_failures`,
/// `auth_failure_window`). Past the limit, AUTH from that address is refused until the window
/// passes, so password guessing is slow and bounded.
public final class AuthLimiter: Sendable {
    let maxFailures: Int
    let window: TimeInterval
    private let failures = NIOLockedValueBox<[String: [Date]]>([:])

    public init(maxFailures: Int, window: TimeInterval) {
        self.maxFailures = maxFailures
        self.window = window
    }

    public func isBlocked(_ address: String, now: Date = Date()) -> Bool {
        failures.withLockedValue { table in
            let recent = (table[address] ?? []).filter { now.timeIntervalSince($0) < window }
            table[address] = recent.isEmpty ? nil : recent
            return recent.count >= maxFailures
        }
    }

    public func recordFailure(_ address: String, now: Date = Date()) {
        failures.withLockedValue { table in
            var recent = (table[address] ?? []).filter { now.timeIntervalSince($0) < window }
            recent.append(now)
            table[address] = recent
            if table.count > 100_000 { table.removeAll() }   // bound memory under a flood of addresses
        }
    }
}

/// Open connections per client address and in total (`max_connections_per_ip`, `max_connections`).
public final class ConnectionLimiter: Sendable {
    let maxTotal: Int
    let maxPerAddress: Int
    private let state = NIOLockedValueBox<(total: Int, perAddress: [String: Int])>((0, [:]))

    public init(maxTotal: Int, maxPerAddress: Int) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
    }

    /// Takes a slot, or returns false when a limit is reached.
    public func acquire(_ address: String) -> Bool {
        state.withLockedValue { s in
            let mine = s.perAddress[address, default: 0]
            guard s.total < maxTotal, mine < maxPerAddress else { return false }
            s.total += 1
            s.perAddress[address] = mine + 1
            return true
        }
    }

    public func release(_ address: String) {
        state.withLockedValue { s in
            s.total -= 1
            let left = s.perAddress[address, default: 1] - 1
            s.perAddress[address] = left > 0 ? left : nil
        }
    }

    public var openConnections: Int { state.withLockedValue { $0.total } }
}

/// Runs at most `limit` jobs at once (scrypt uses 32 MiB and ~160 ms each: never let a flood of
/// AUTH attempts take all cores and memory).
public actor WorkLimiter {
    let limit: Int
    var running = 0
    var waiters: [CheckedContinuation<Void, Never>] = []

    public init(limit: Int) { self.limit = limit }

    public func run<T: Sendable>(_ job: @Sendable () async throws -> T) async rethrows -> T {
        if running >= limit {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            running += 1
        }
        defer {
            if waiters.isEmpty { running -= 1 } else { waiters.removeFirst().resume() }
        }
        return try await job()
    }
}
