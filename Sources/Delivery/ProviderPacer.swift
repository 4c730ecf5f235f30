import Foundation
import Synchronization

/// `ProviderPacing` in this process: a connection counter and a `PaceState` per provider behind a lock.
/// The clock and the sleep are injected, so tests drive pacing with a fake clock and no waiting.
public final class ProviderPacer: ProviderPacing {
    struct State {
        var connections: [String: Int] = [:]
        var pace: [String: PaceState] = [:]
    }

    let state = Mutex(State())
    let clock: @Sendable () -> Date
    let sleep: @Sendable (Date) async -> Void

    /// - Parameters:
    ///   - clock: the current time.
    ///   - sleep: returns at (or after) the given time; the default sleeps for real.
    public init(clock: @escaping @Sendable () -> Date = { Date() },
                sleep: @escaping @Sendable (Date) async -> Void = ProviderPacer.sleepUntil) {
        self.clock = clock
        self.sleep = sleep
    }

    public static let sleepUntil: @Sendable (Date) async -> Void = { date in
        let seconds = date.timeIntervalSinceNow
        if seconds > 0 { try? await Task.sleep(for: .milliseconds(Int(seconds * 1000))) }
    }

    public func tryOpenConnection(_ provider: Provider) -> Bool {
        state.withLock { s in
            guard s.connections[provider.name, default: 0] < max(provider.maxConnections, 1) else { return false }
            s.connections[provider.name, default: 0] += 1
            return true
        }
    }

    public func connectionClosed(_ provider: Provider) {
        state.withLock { s in s.connections[provider.name] = max(s.connections[provider.name, default: 1] - 1, 0) }
    }

    public func awaitMessageSlot(_ provider: Provider) async {
        let now = clock()
        let start = state.withLock { s in
            s.pace[provider.name, default: PaceState()].reserve(limit: provider.maxMessagesPerMinute, now: now)
        }
        if start > now { await sleep(start) }
    }

    public func rateLimited(_ provider: Provider) {
        let now = clock()
        state.withLock { s in
            s.pace[provider.name, default: PaceState()].rateLimited(limit: provider.maxMessagesPerMinute, now: now)
        }
    }

    public func currentPace(of providers: [Provider]) -> [String: Double] {
        let now = clock()
        return state.withLock { s in
            var out: [String: Double] = [:]
            for p in providers {
                out[p.name] = s.pace[p.name, default: PaceState()].rate(limit: p.maxMessagesPerMinute, now: now)
            }
            return out
        }
    }

    /// Open connections per provider (tests).
    public func openConnections(_ provider: String) -> Int { state.withLock { $0.connections[provider, default: 0] } }
}
