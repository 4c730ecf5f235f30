import Foundation
import MailQueue
import Testing

/// The retry schedule with a fake clock: DESIGN.md §4 (1m, 5m, 15m, 30m, 1h, 2h, then every 4h until
/// give_up_after).
@Suite struct RetryScheduleTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let schedule = RetrySchedule(giveUpAfter: .seconds(5 * 86400))

    @Test(arguments: [
        (1, 60.0), (2, 300.0), (3, 900.0), (4, 1800.0), (5, 3600.0), (6, 7200.0), (7, 14400.0), (8, 14400.0),
        (50, 14400.0),
    ])
    func delayAfterFailure(attempts: Int, seconds: Double) {
        let now = Self.t0.addingTimeInterval(100)
        #expect(Self.schedule.next(attempts: attempts, receivedAt: Self.t0, now: now, jitter: 0)
                == .retry(at: now.addingTimeInterval(seconds)))
    }

    @Test func jitterAddsAtMostTenPercent() {
        let now = Self.t0
        #expect(Self.schedule.next(attempts: 2, receivedAt: Self.t0, now: now, jitter: 1) == .retry(at: now.addingTimeInterval(330)))
        #expect(Self.schedule.next(attempts: 2, receivedAt: Self.t0, now: now, jitter: 0.5) == .retry(at: now.addingTimeInterval(315)))
        // Out-of-range jitter is clamped.
        #expect(Self.schedule.next(attempts: 1, receivedAt: Self.t0, now: now, jitter: 7) == .retry(at: now.addingTimeInterval(66)))
    }

    @Test func givesUpAtTheDeadline() {
        let deadline = Self.t0.addingTimeInterval(5 * 86400)
        #expect(Self.schedule.next(attempts: 30, receivedAt: Self.t0, now: deadline, jitter: 0) == .giveUp)
        #expect(Self.schedule.next(attempts: 30, receivedAt: Self.t0, now: deadline.addingTimeInterval(1), jitter: 0) == .giveUp)
    }

    @Test func lastRetryIsMovedToTheDeadline() {
        let deadline = Self.t0.addingTimeInterval(5 * 86400)
        let now = deadline.addingTimeInterval(-600)
        #expect(Self.schedule.next(attempts: 9, receivedAt: Self.t0, now: now, jitter: 0) == .retry(at: deadline))
    }

    /// A whole life with a fake clock: every attempt fails; the attempts fall on the documented times and
    /// the message is given up after five days.
    @Test func fullTimelineWithFakeClock() {
        var now = Self.t0
        var attempts = 0
        var times: [Double] = []
        while true {
            attempts += 1
            guard case .retry(let at) = Self.schedule.next(attempts: attempts, receivedAt: Self.t0, now: now, jitter: 0) else { break }
            now = at
            times.append(now.timeIntervalSince(Self.t0))
        }
        #expect(times.prefix(7).map { $0.rounded() } == [60, 360, 1260, 3060, 6660, 13860, 28260])
        #expect(abs((times.last ?? 0) - 5 * 86400) < 0.001)
        #expect(attempts == times.count + 1)
        #expect(attempts == 37)
    }
}
