import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Takes events from the accept path and the queue runner without waiting for the database, and writes them
/// in batches (one transaction for whatever arrived while the previous batch was written): a lone message
/// costs one small transaction, a burst shares one.
///
/// A batch waits `gatherDelay` for company before it is written (unless someone waits in `flush()`): one
/// transaction touches each index page once however many events it carries, so under load this turns
/// thousands of small transactions a second into a hundred (it was 17 page writes per accepted message).
///
/// `record` only appends to a buffer under a lock. `flush()` returns once everything recorded before the call
/// is in the store (the API calls it before answering a read, so a client sees its own message at once).
/// At graceful shutdown the buffer is written before `run` returns; run it before (so it stops after) every
/// service that records events.
public final class EventRecorder: Service, Sendable {
    struct State {
        var buffer: [NewEvent] = []
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    public let store: any MailStore
    let logger: Logger
    let state = Mutex(State())
    let signal: AsyncStream<Void>.Continuation
    let signals: AsyncStream<Void>
    /// Told of each batch once it is stored (webhook dispatch, `--follow`).
    let onStored: @Sendable ([StoredEvent]) async -> Void

    /// How long a batch waits for more events before it is written.
    let gatherDelay: Duration
    /// Written at once when this many events are waiting.
    let batchLimit = 512

    public init(store: any MailStore, logger: Logger, gatherDelay: Duration = .milliseconds(10),
                onStored: @escaping @Sendable ([StoredEvent]) async -> Void = { _ in }) {
        self.gatherDelay = gatherDelay
        self.store = store
        self.logger = logger
        self.onStored = onStored
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func record(_ event: NewEvent) {
        state.withLock { $0.buffer.append(event) }
        signal.yield()
    }

    public func record(_ events: [NewEvent]) {
        guard !events.isEmpty else { return }
        state.withLock { $0.buffer.append(contentsOf: events) }
        signal.yield()
    }

    /// Waits until every event recorded before this call is stored.
    public func flush() async {
        await withCheckedContinuation { continuation in
            state.withLock { $0.waiters.append(continuation) }
            signal.yield()
        }
    }

    public func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            let mayGather = state.withLock { $0.waiters.isEmpty && $0.buffer.count < batchLimit }
            if mayGather, gatherDelay > .zero { try? await Task.sleep(for: gatherDelay) }
            await writeBatch()
        }
        await writeBatch()
        signal.finish()
    }

    func writeBatch() async {
        let (batch, waiters) = state.withLock { state -> ([NewEvent], [CheckedContinuation<Void, Never>]) in
            defer { state.buffer = []; state.waiters = [] }
            return (state.buffer, state.waiters)
        }
        if !batch.isEmpty {
            do {
                let stored = try await store.record(batch)
                await onStored(stored)
            } catch {
                logger.error("event store: could not record \(batch.count) event(s): \(error)")
            }
        }
        for waiter in waiters { waiter.resume() }
    }
}
