#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ConfigFiles
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The queue directory `<data_dir>/queue/` (file format: `QueuedMessage`). Blocking file I/O runs on NIO's
/// thread pool, never on an event loop.
///
/// Two writers share it: the server (user `apus`) and administrators' commands run as root (`apus sendmail`,
/// `apus queue`). `DurableFile` gives root's new files the directory's owner, so the server can read them.
/// A file it still cannot read (an older root-owned one, a copied-in one) is skipped by `list()` with one
/// error in the log per file, naming the file, the errno and the fix, not once per queue scan.
public struct FileSpool: Spool {
    public let directory: String
    let threadPool: NIOThreadPool
    let logger: Logger
    let skipped: SkippedFiles
    /// The group-commit writer of the server (`SpoolWriter`); nil for one-shot commands, which write each
    /// file with `DurableFile` as before.
    let writer: SpoolWriter?
    /// Messages just stored, kept for the queue runner's first `load` so that it does not read back what
    /// is still in memory.
    let recent: RecentMessages?
    static let magic = Array("APUS-QUEUE 1\n".utf8)

    /// Creates the directory when missing. `logger` reports queue files that `list()` has to skip.
    /// `groupCommit`: the long-running server's mode — stores and removals go through one writer thread that
    /// shares each directory sync among concurrent sessions, and just-stored messages are kept in memory
    /// (at most `recentBytes`) for their first delivery attempt.
    public init(directory: String, threadPool: NIOThreadPool = .singleton, logger: Logger = Logger(label: "apus"),
                groupCommit: Bool = false, recentBytes: Int = 32 << 20) throws {
        self.directory = directory
        self.threadPool = threadPool
        self.logger = logger
        self.skipped = SkippedFiles()
        try DurableFile.makeDirectories(directory)
        self.writer = groupCommit ? try SpoolWriter(directory: directory) : nil
        self.recent = groupCommit ? RecentMessages(limit: recentBytes) : nil
    }

    func messagePath(_ id: String) -> String { "\(directory)/\(id).msg" }
    func statePath(_ id: String) -> String { "\(directory)/\(id).state" }

    public func store(_ meta: QueuedMessage, message: ByteBuffer) async throws {
        let path = messagePath(meta.id)
        let header = Self.magic + meta.jsonLine() + [UInt8(ascii: "\n")]
        if let writer {
            try await writer.store(id: meta.id, header: header, body: message)
            recent?.insert(meta, message)
            return
        }
        try await threadPool.runIfActive {
            try header.withUnsafeBytes { h in
                try message.withUnsafeReadableBytes { body in
                    try DurableFile.write([h, body], to: path)
                }
            }
        }
    }

    /// Every readable queued message, sorted by id. Files that cannot be read or parsed are left out and
    /// logged (once each, until they become readable or go away).
    public func list() async throws -> [QueuedMessage] {
        let dir = directory
        let (items, failures) = try await threadPool.runIfActive {
            let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            var items: [QueuedMessage] = []
            var failures: [String: String] = [:]
            for name in names.sorted() where name.hasSuffix(".msg") {
                let id = String(name.dropLast(4))
                guard QueuedMessage.isValidID(id) else { continue }
                do {
                    items.append(try Self.readMeta(dir: dir, id: id, withBody: false).0)
                } catch SpoolError.notFound {
                    continue   // removed meanwhile
                } catch {
                    failures["\(dir)/\(name)"] = "\(error)"
                }
            }
            return (items, failures)
        }
        for path in skipped.newlyFailing(Set(failures.keys)).sorted() {
            logger.error("queue: skipping \(failures[path]!)")
        }
        return items
    }

    public func load(id: String) async throws -> (QueuedMessage, ByteBuffer) {
        guard QueuedMessage.isValidID(id) else { throw SpoolError.notFound(id) }
        let dir = directory
        if let (meta, body) = recent?.take(id) {
            // Still in memory: only make sure it was not removed meanwhile, and read a newer state if any
            // (two system calls on cached directory entries: done here rather than through the thread pool).
            var info = stat()
            guard stat("\(dir)/\(id).msg", &info) == 0 else { throw SpoolError.notFound(id) }
            if let state = try Self.readFile("\(dir)/\(id).state", in: dir),
               let newer = try? Self.decoder().decode(QueuedMessage.self, from: Data(state)) {
                return (newer, body)
            }
            return (meta, body)
        }
        return try await threadPool.runIfActive {
            let (meta, body) = try Self.readMeta(dir: dir, id: id, withBody: true)
            return (meta, body ?? ByteBuffer())
        }
    }

    public func update(_ meta: QueuedMessage) async throws {
        let path = statePath(meta.id)
        let bytes = meta.jsonLine()
        try await threadPool.runIfActive { try DurableFile.write(bytes, to: path) }
    }

    public func remove(id: String) async throws {
        guard QueuedMessage.isValidID(id) else { throw SpoolError.notFound(id) }
        recent?.drop(id)
        if let writer { return try await writer.remove(id: id) }
        let (msg, state, dir) = (messagePath(id), statePath(id), directory)
        try await threadPool.runIfActive {
            unlink(state)
            guard unlink(msg) == 0 || errno == ENOENT else {
                throw DurableFile.IOError(operation: .unlink, path: msg, errno: errno)
            }
            try DurableFile.syncDirectory(dir)
        }
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        return d
    }

    /// The envelope of `<id>.msg`, overridden by `<id>.state` when that exists. An unreadable state file is
    /// an error too: the envelope line alone would send again to recipients already done.
    static func readMeta(dir: String, id: String, withBody: Bool) throws -> (QueuedMessage, ByteBuffer?) {
        let path = "\(dir)/\(id).msg"
        // The whole file into one buffer for a delivery; only up to the envelope line for a listing.
        guard let buffer = try readQueueFile(path, in: dir, whole: withBody) else { throw SpoolError.notFound(id) }
        let bytes = buffer.readableBytesView
        guard bytes.starts(with: magic) else { throw SpoolError.corrupt(path, "missing APUS-QUEUE header") }
        guard let nl = bytes[magic.count...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw SpoolError.corrupt(path, "unterminated envelope line")
        }
        var meta: QueuedMessage
        do { meta = try decoder().decode(QueuedMessage.self, from: Data(bytes[magic.count..<nl])) } catch {
            throw SpoolError.corrupt(path, "envelope line: \(error)")
        }
        if let state = try readFile("\(dir)/\(id).state", in: dir),
           let newer = try? decoder().decode(QueuedMessage.self, from: Data(state)) {
            meta = newer
        }
        var body: ByteBuffer?
        if withBody { body = buffer.getSlice(at: nl + 1, length: buffer.writerIndex - nl - 1) }   // no copy
        return (meta, body)
    }

    /// `DurableFile.read`, its failure turned into `SpoolError.unreadable` with a hint for EACCES.
    static func readFile(_ path: String, in dir: String) throws -> [UInt8]? {
        do { return try DurableFile.read(path) } catch let error as DurableFile.IOError {
            var reason = String(cString: strerror(error.errno))
            if error.errno == EACCES || error.errno == EPERM {
                reason += " (\(Ownership.describe(path))); written by another user? chown it to the owner of \(dir)"
                    + " (\(Ownership.describe(dir)))"
            }
            throw SpoolError.unreadable(path: path, reason: reason)
        }
    }
}

/// The queue files `list()` has already reported as unreadable, so that each is logged once.
final class SkippedFiles: Sendable {
    private let paths = Mutex<Set<String>>([])

    /// Records the files failing now; returns those that were not failing at the previous call. A file that
    /// was fixed (or removed) and fails again later is reported again.
    func newlyFailing(_ failing: Set<String>) -> Set<String> {
        paths.withLock { known in
            defer { known = failing }
            return failing.subtracting(known)
        }
    }
}

/// `user:group mode` of a file, for messages about permissions (`ConfigFile.describeOwner`).
enum Ownership {
    static func describe(_ path: String) -> String {
        do { return try ConfigFile.describeOwner(path: path) } catch {
            return "cannot stat: \(String(cString: strerror(error.errno)))"
        }
    }
}
