import NIOCore

/// A `Spool` in memory: for tests of the queue runner (no files, no fsync) and for tools that queue a
/// message only to hand it on. Nothing survives the process; `FileSpool` is the durable one.
public actor MemorySpool: Spool {
    var messages: [String: (meta: QueuedMessage, body: ByteBuffer)] = [:]

    public init() {}

    public func store(_ meta: QueuedMessage, message: ByteBuffer) async throws {
        messages[meta.id] = (meta, message)
    }

    public func list() async throws -> [QueuedMessage] {
        messages.values.map(\.meta).sorted { $0.id < $1.id }
    }

    public func load(id: String) async throws -> (QueuedMessage, ByteBuffer) {
        guard let entry = messages[id] else { throw SpoolError.notFound(id) }
        return (entry.meta, entry.body)
    }

    public func update(_ meta: QueuedMessage) async throws {
        guard let entry = messages[meta.id] else { throw SpoolError.notFound(meta.id) }
        messages[meta.id] = (meta, entry.body)
    }

    public func remove(id: String) async throws {
        guard messages.removeValue(forKey: id) != nil else { throw SpoolError.notFound(id) }
    }
}
