/// Bounds the memory of deliveries: a message is loaded whole for its attempt (`Spool.load`), so many large
/// messages due at once (20 × 50 MB arriving together) would otherwise be in memory together. Attempts of
/// messages larger than `ungatedBytes` wait here until the large messages already loaded add up to less than
/// `limitBytes`; one always goes ahead however large, so nothing waits forever. Small messages never wait
/// and never touch the counter. First come, first served.
actor DeliveryMemoryGate {
    /// 64 MiB of large messages in memory for delivery at once (one 50 MB message, or many of a few MB).
    static let defaultLimitBytes = 64 * 1024 * 1024
    /// Messages up to 1 MiB are not counted: 32 concurrent attempts of them hold at most 32 MiB.
    static let ungatedBytes = 1024 * 1024

    let limitBytes: Int
    private var held = 0
    private var waiting: [(bytes: Int, continuation: CheckedContinuation<Void, Never>)] = []

    init(limitBytes: Int = DeliveryMemoryGate.defaultLimitBytes) {
        self.limitBytes = limitBytes
    }

    /// Waits for room for `bytes`; returns what to `leave` with afterwards (0 for a message not gated).
    func enter(_ bytes: Int?) async -> Int {
        guard let bytes, bytes > Self.ungatedBytes else { return 0 }
        if waiting.isEmpty, held == 0 || held + bytes <= limitBytes {
            held += bytes
            return bytes
        }
        await withCheckedContinuation { waiting.append((bytes, $0)) }
        return bytes
    }

    func leave(_ bytes: Int) {
        guard bytes > 0 else { return }
        held -= bytes
        while let next = waiting.first, held == 0 || held + next.bytes <= limitBytes {
            waiting.removeFirst()
            held += next.bytes
            next.continuation.resume()
        }
    }
}
