import Foundation
import SMTPProtocol
import SMTPTransport

/// The pacing of one provider, pure: when its next message may start, and whether it is slowed down.
/// `reserve` hands out start times `60 / rate` seconds apart (the first at once); a rate-limit deferral
/// halves the rate for `slowdown` from when it was seen. `ProviderPacer` keeps one per provider.
public struct PaceState: Sendable, Hashable {
    /// How long a rate-limit deferral halves the pace (DESIGN.md §3: 10 minutes).
    public static let slowdown: TimeInterval = 600

    public var nextStart: Date?
    public var slowUntil: Date?

    public init() {}

    /// Messages per minute allowed at `now`.
    public func rate(limit: Int, now: Date) -> Double {
        let base = Double(max(limit, 1))
        if let slowUntil, now < slowUntil { return base / 2 }
        return base
    }

    /// The time the next message may start (never before `now`); the one after it is spaced by the rate.
    public mutating func reserve(limit: Int, now: Date) -> Date {
        let start = max(now, nextStart ?? now)
        nextStart = start.addingTimeInterval(60 / rate(limit: limit, now: start))
        return start
    }

    /// A rate-limit deferral seen at `now`: half the pace for the next `slowdown` seconds, and the next
    /// start pushed out by one interval at the slower pace.
    public mutating func rateLimited(limit: Int, now: Date) {
        slowUntil = now.addingTimeInterval(Self.slowdown)
        let interval = 60 / rate(limit: limit, now: now)
        nextStart = max(nextStart ?? now, now.addingTimeInterval(interval))
    }

    /// Whether `reply` is a receiver saying "too fast": a 421 or 451 with a 4.7.x code and a rate-limit
    /// wording or a known rate-limit code (Gmail 4.7.28, Outlook 4.7.650, Yahoo TSS04).
    public static func isRateLimit(_ reply: SMTPClientReply) -> Bool {
        guard reply.code == 421 || reply.code == 451,
              let status = reply.enhancedStatus.flatMap({ EnhancedStatusCode(parsing: $0[...]) }),
              status.klass == 4, status.subject == 7 else { return false }
        let text = reply.lines.joined(separator: " ").lowercased()
        return [28, 650].contains(status.detail) || text.contains("tss04") || text.contains("rate limit")
            || text.contains("rate-limit") || text.contains("unusual rate") || text.contains("too many")
    }
}
