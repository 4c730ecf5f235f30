import ConfigFiles
import Foundation
import Logging
import MailQueue
import NIOCore
import Synchronization
import Testing

/// The queue is shared by the server (user `apus`) and root's commands (`apus sendmail`): as root, files and
/// directories made in a directory that belongs to another user get that user's ids, so the server can read
/// them; a queue file that cannot be read is logged once, not at every scan. `nobody` stands in for `apus`.
/// These tests need root (the suite runs as root in CI).
struct SpoolOwnershipTests {
    static func requireRoot() throws {
        try #require(geteuid() == 0, "SpoolOwnershipTests chown files to nobody: run the test suite as root")
    }

    /// nobody's uid and primary gid.
    static func nobody() throws -> (uid: uid_t, gid: gid_t) {
        let entry = try #require(getpwnam("nobody"), "no user nobody on this system")
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    static func owner(_ path: String) throws -> (uid: uid_t, gid: gid_t, mode: mode_t) {
        var info = stat()
        try #require(stat(path, &info) == 0, "stat \(path)")
        return (info.st_uid, info.st_gid, info.st_mode & 0o7777)
    }

    static func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "apus-spool-owner-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func sample() -> QueuedMessage {
        QueuedMessage(id: QueuedMessage.newID(), mailFrom: "root@mx.example.test",
                      recipients: [.init(address: "alice@example.test", original: "alice@example.test")],
                      receivedAt: Date(timeIntervalSince1970: 1_800_000_000), clientAddress: "127.0.0.1",
                      clientName: "localhost", authenticatedUser: "root", smtputf8: false, size: 12)
    }

    @Test func rootWritesIntoADirectoryOfAnotherUserAsThatUser() async throws {
        try Self.requireRoot()
        let nobody = try Self.nobody()
        let data = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try #require(chown(data, nobody.uid, nobody.gid) == 0)

        // As `apus sendmail` on a server that never ran: queue/ does not exist yet.
        let spool = try FileSpool(directory: "\(data)/queue")
        let queue = try Self.owner("\(data)/queue")
        #expect(queue.uid == nobody.uid && queue.gid == nobody.gid, "queue directory \(queue)")
        #expect(queue.mode == 0o700)

        var meta = Self.sample()
        try await spool.store(meta, message: ByteBuffer(string: "Subject: x\r\n\r\nbody\r\n"))
        let msg = try Self.owner("\(data)/queue/\(meta.id).msg")
        #expect(msg.uid == nobody.uid && msg.gid == nobody.gid, ".msg \(msg)")
        #expect(msg.mode == 0o600)

        meta.recipients[0].attempts = 1
        try await spool.update(meta)
        let state = try Self.owner("\(data)/queue/\(meta.id).state")
        #expect(state.uid == nobody.uid && state.gid == nobody.gid, ".state \(state)")
        #expect(state.mode == 0o600)
        #expect(try await spool.list() == [meta])

        // Nested directories made for the trigger files (`apus queue retry`) follow their parent too.
        try DurableFile.makeDirectories("\(data)/state/retry")
        for dir in ["\(data)/state", "\(data)/state/retry"] {
            let owner = try Self.owner(dir)
            #expect(owner.uid == nobody.uid && owner.gid == nobody.gid, "\(dir) \(owner)")
        }
    }

    @Test func rootKeepsItsOwnIdsInItsOwnDirectory() async throws {
        try Self.requireRoot()
        let data = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let spool = try FileSpool(directory: "\(data)/queue")
        let meta = Self.sample()
        try await spool.store(meta, message: ByteBuffer(string: "Subject: x\r\n\r\nbody\r\n"))
        let msg = try Self.owner("\(data)/queue/\(meta.id).msg")
        #expect(msg.uid == 0 && msg.gid == getegid())
        #expect(msg.mode == 0o600)
    }

    /// A queue file that cannot be read is logged with its path and errno text at the first scan only, and
    /// again if it is fixed and breaks again. (Root reads every file, so a directory named like a queue file
    /// stands in for an unreadable one: reading it fails with EISDIR.)
    @Test func unreadableQueueFileIsLoggedOncePerFile() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = CapturedLog()
        let spool = try FileSpool(directory: dir, logger: log.logger)
        let good = Self.sample()
        try await spool.store(good, message: ByteBuffer(string: "Subject: x\r\n\r\nbody\r\n"))
        let bad = "\(dir)/\(QueuedMessage.newID()).msg"
        try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: false)

        for _ in 0..<3 { #expect(try await spool.list() == [good]) }
        var lines = log.lines
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("queue: skipping \(bad): cannot read: Is a directory") == true, "\(lines)")

        try FileManager.default.removeItem(atPath: bad)
        #expect(try await spool.list() == [good])
        try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: false)
        #expect(try await spool.list() == [good])
        lines = log.lines
        #expect(lines.count == 2, "\(lines)")
    }
}

/// A logger whose error lines are kept for the test to read.
final class CapturedLog: Sendable {
    private let store = Mutex<[String]>([])
    var lines: [String] { store.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .error
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.store.withLock { $0.append("\(event.level) \(event.message)") }
        }
    }
}
