import NIOCore
import Synchronization

/// Messages the server has just queued, kept in memory until the queue runner first loads them (normally
/// within milliseconds), so that a message accepted for delivery is not read back from the disk it was
/// just written to. Bounded by bytes: past the limit, new messages are simply not kept (the runner then
/// reads the file, as after a restart). The file stays the truth: `FileSpool.load` checks it still exists
/// and prefers its `.state`.
final class RecentMessages: Sendable {
    private struct State {
        var messages: [String: (QueuedMessage, ByteBuffer)] = [:]
        var bytes = 0
    }
    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func insert(_ meta: QueuedMessage, _ body: ByteBuffer) {
        state.withLock { s in
            guard s.bytes + body.readableBytes <= limit, s.messages[meta.id] == nil else { return }
            s.messages[meta.id] = (meta, body)
            s.bytes += body.readableBytes
        }
    }

    /// The message, removed from memory: the first delivery attempt takes it; a later one reads the file.
    func take(_ id: String) -> (QueuedMessage, ByteBuffer)? {
        state.withLock { s in
            guard let entry = s.messages.removeValue(forKey: id) else { return nil }
            s.bytes -= entry.1.readableBytes
            return entry
        }
    }

    func drop(_ id: String) { _ = take(id) }

    /// The size of the kept body of `id`, nil when it is not in memory.
    func bodySize(_ id: String) -> Int? {
        state.withLock { $0.messages[id]?.1.readableBytes }
    }
}
