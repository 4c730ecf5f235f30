import Foundation

/// When to try a deferred message again (DESIGN.md §4): 1m, 5m, 15m, 30m, 1h, 2h, then every 4h, each with
/// up to +10 % jitter so that a burst of deferrals does not retry in lockstep; after `giveUpAfter` (counted
/// from the message's arrival) the runner stops and bounces.
///
/// A pure function: the clock (`now`) and the randomness (`jitter`, 0…1) are arguments, so tests can table
/// it with a fake clock.
public struct RetrySchedule: Sendable, Hashable {
    /// Delay after the 1st, 2nd, … failed attempt; the last one repeats.
    public var delays: [Duration]
    /// How long a message may stay in the queue before it is bounced.
    public var giveUpAfter: Duration
    /// Largest jitter as a fraction of the delay.
    public var maxJitter: Double

    public static let standardDelays: [Duration] = [
        .seconds(60), .seconds(5 * 60), .seconds(15 * 60), .seconds(30 * 60), .seconds(3600), .seconds(2 * 3600),
        .seconds(4 * 3600),
    ]

    public init(delays: [Duration] = RetrySchedule.standardDelays, giveUpAfter: Duration = .seconds(5 * 86400),
                maxJitter: Double = 0.1) {
        precondition(!delays.isEmpty)
        self.delays = delays
        self.giveUpAfter = giveUpAfter
        self.maxJitter = maxJitter
    }

    public enum Decision: Sendable, Hashable {
        /// Try again at this time.
        case retry(at: Date)
        /// The message is older than `giveUpAfter`: bounce it.
        case giveUp
    }

    /// The decision after failed attempt number `attempts` (1 for the first failure) of a message that
    /// arrived at `receivedAt`. A retry that would fall after the give-up time is moved to exactly the
    /// give-up time, so the last attempt happens then.
    public func next(attempts: Int, receivedAt: Date, now: Date, jitter: Double = 0) -> Decision {
        let deadline = receivedAt.addingTimeInterval(Self.seconds(giveUpAfter))
        if now >= deadline { return .giveUp }
        let base = Self.seconds(delays[min(max(attempts, 1), delays.count) - 1])
        let delay = base * (1 + maxJitter * min(max(jitter, 0), 1))
        return .retry(at: min(now.addingTimeInterval(delay), deadline))
    }

    public static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
