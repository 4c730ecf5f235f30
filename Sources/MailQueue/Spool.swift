import Foundation
import NIOCore

/// Where queued messages live. `FileSpool` is the real one; tests may use their own.
public protocol Spool: Sendable {
    /// Stores a new message durably. When this returns, a crash does not lose it.
    func store(_ meta: QueuedMessage, message: ByteBuffer) async throws
    func list() async throws -> [QueuedMessage]
    func load(id: String) async throws -> (QueuedMessage, ByteBuffer)
    func update(_ meta: QueuedMessage) async throws
    func remove(id: String) async throws
    /// Stores a new message durably whose body is the file `bodyFile` (a large message written to disk as it
    /// arrived): `header` then that file's bytes. The file is left in place. Default: `FileSpool+Spilled.swift`.
    func storeSpilled(_ meta: QueuedMessage, header: ByteBuffer, bodyFile: String) async throws
    /// The stored size of a message without loading it, nil when unknown.
    func storedSize(id: String) async -> Int?
}

public enum SpoolError: Error, CustomStringConvertible {
    case notFound(String)
    case corrupt(String, String)
    /// The file is there but cannot be read: the errno text and, for EACCES, what to do about it.
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let id): return "queue item \(id) not found"
        case .corrupt(let path, let why): return "\(path): corrupt queue file: \(why)"
        case .unreadable(let path, let why): return "\(path): cannot read: \(why)"
        }
    }
}
