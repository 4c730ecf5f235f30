import Synchronization

/// When the message of a DATA goes to disk as it arrives instead of being held in memory (the large
/// messages of docs/architecture.md). Small messages stay in memory: the common case pays nothing. A
/// message spills when it passes `thresholdBytes`, or earlier when all connections together already hold
/// `budget.limit` bytes of DATA in memory, so that many large messages at once cannot exhaust memory.
public struct DataSpillPolicy: Sendable {
    /// Where the spill files go: the queue directory, so that the queue file is made from them on the same
    /// file system, and a crash's leftovers are removed with the queue's other `.tmp-*` files at start.
    public var directory: String
    public var thresholdBytes: Int
    public var budget: DataMemoryBudget

    /// 512 KiB: above most mail (the median message is tens of KiB; a typical marketing message ~100 KiB),
    /// so the hot path never touches the disk twice, yet small enough that 1,000 connections at the
    /// threshold hold at most 0.5 GiB — and the budget cuts that far lower.
    public static let defaultThresholdBytes = 512 * 1024
    /// While spilling, decoded bytes are written in pieces of this size (one write in flight per connection,
    /// reading paused meanwhile).
    public static let writeBytes = 128 * 1024
    /// The header section of a spilled message stays in memory for the checks (DKIM, DMARC, loops) up to this
    /// size (Postfix's `header_size_limit` is 100 KiB); past it the rest counts as body for the checks only.
    public static let maxHeaderBytes = 256 * 1024
    /// A message held in memory is counted against the budget only past this size, so the budget's shared
    /// counter is never touched by ordinary mail.
    public static let uncountedBytes = 64 * 1024

    public init(directory: String, thresholdBytes: Int = DataSpillPolicy.defaultThresholdBytes,
                budget: DataMemoryBudget = DataMemoryBudget()) {
        self.directory = directory
        self.thresholdBytes = thresholdBytes
        self.budget = budget
    }
}

/// The bytes of DATA all connections hold in memory together (messages past `DataSpillPolicy.uncountedBytes`
/// that have not spilled, from their first counted byte until they are queued or refused).
public final class DataMemoryBudget: Sendable {
    /// 64 MiB: with the 512 KiB threshold, ~128 large messages at once in memory before new data spills.
    public static let defaultLimit = 64 * 1024 * 1024
    public let limit: Int
    private let held = Atomic<Int>(0)

    public init(limit: Int = DataMemoryBudget.defaultLimit) {
        self.limit = limit
    }

    /// Counts `bytes` more; false when the total is now over the limit (the caller should spill).
    public func charge(_ bytes: Int) -> Bool {
        held.add(bytes, ordering: .relaxed).newValue <= limit
    }

    public func release(_ bytes: Int) {
        guard bytes != 0 else { return }
        held.subtract(bytes, ordering: .relaxed)
    }

    public var current: Int { held.load(ordering: .relaxed) }
}
