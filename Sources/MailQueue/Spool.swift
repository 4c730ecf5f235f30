import Foundation
import NIOCore
import NIOPosix

/// Where queued messages live. `FileSpool` is the real one; tests may use their own.
public protocol Spool: Sendable {
    /// Stores a new message durably. When this returns, a crash does not lose it.
    func store(_ meta: QueuedMessage, message: ByteBuffer) async throws
    func list() async throws -> [QueuedMessage]
    func load(id: String) async throws -> (QueuedMessage, ByteBuffer)
    func update(_ meta: QueuedMessage) async throws
    func remove(id: String) async throws
}

public enum SpoolError: Error, CustomStringConvertible {
    case notFound(String)
    case corrupt(String, String)

    public var description: String {
        switch self {
        case .notFound(let id): return "queue item \(id) not found"
        case .corrupt(let path, let why): return "\(path): corrupt queue file: \(why)"
        }
    }
}

/// The queue directory `<data_dir>/queue/`. Blocking file I/O runs on NIO's thread pool, never
/// on an event loop.
public struct FileSpool: Spool {
    public let directory: String
    let threadPool: NIOThreadPool
    static let magic = Array("APUS-QUEUE 1\n".utf8)

    public init(directory: String, threadPool: NIOThreadPool = .singleton) throws {
        self.directory = directory
        self.threadPool = threadPool
        try DurableFile.makeDirectories(directory)
    }

    func messagePath(_ id: String) -> String { "\(directory)/\(id).msg" }
    func statePath(_ id: String) -> String { "\(directory)/\(id).state" }

    public func store(_ meta: QueuedMessage, message: ByteBuffer) async throws {
        let path = messagePath(meta.id)
        let header = Self.magic + (try Self.encoder.encode(meta)) + [UInt8(ascii: "\n")]
        try await threadPool.runIfActive {
            try header.withUnsafeBytes { h in
                try message.withUnsafeReadableBytes { body in
                    try DurableFile.write([h, body], to: path)
                }
            }
        }
    }

    public func list() async throws -> [QueuedMessage] {
        let dir = directory
        return try await threadPool.runIfActive {
            let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            var items: [QueuedMessage] = []
            for name in names.sorted() where name.hasSuffix(".msg") {
                let id = String(name.dropLast(4))
                guard QueuedMessage.isValidID(id) else { continue }
                if let meta = try? Self.readMeta(dir: dir, id: id, withBody: false).0 { items.append(meta) }
            }
            return items
        }
    }

    public func load(id: String) async throws -> (QueuedMessage, ByteBuffer) {
        guard QueuedMessage.isValidID(id) else { throw SpoolError.notFound(id) }
        let dir = directory
        return try await threadPool.runIfActive {
            let (meta, body) = try Self.readMeta(dir: dir, id: id, withBody: true)
            return (meta, body ?? ByteBuffer())
        }
    }

    public func update(_ meta: QueuedMessage) async throws {
        let path = statePath(meta.id)
        let bytes = Array(try Self.encoder.encode(meta))
        try await threadPool.runIfActive { try DurableFile.write(bytes, to: path) }
    }

    public func remove(id: String) async throws {
        guard QueuedMessage.isValidID(id) else { throw SpoolError.notFound(id) }
        let (msg, state, dir) = (messagePath(id), statePath(id), directory)
        try await threadPool.runIfActive {
            unlink(state)
            guard unlink(msg) == 0 || errno == ENOENT else {
                throw DurableFile.IOError(operation: "unlink", path: msg, errno: errno)
            }
            try DurableFile.syncDirectory(dir)
        }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .secondsSince1970
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        return d
    }

    static func readMeta(dir: String, id: String, withBody: Bool) throws -> (QueuedMessage, ByteBuffer?) {
        let path = "\(dir)/\(id).msg"
        guard let data = FileManager.default.contents(atPath: path) else { throw SpoolError.notFound(id) }
        let bytes = [UInt8](data)
        guard bytes.starts(with: magic) else { throw SpoolError.corrupt(path, "missing APUS-QUEUE header") }
        guard let nl = bytes[magic.count...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw SpoolError.corrupt(path, "unterminated envelope line")
        }
        var meta = try decoder().decode(QueuedMessage.self, from: Data(bytes[magic.count..<nl]))
        if let state = FileManager.default.contents(atPath: "\(dir)/\(id).state"),
           let newer = try? decoder().decode(QueuedMessage.self, from: state) {
            meta = newer
        }
        var body: ByteBuffer?
        if withBody { body = ByteBuffer(bytes: bytes[(nl + 1)...]) }
        return (meta, body)
    }
}
