import Foundation
import MailQueue
import NIOCore
import Testing

/// The server's group-commit mode of `FileSpool` (`SpoolWriter`, `RecentMessages`).
struct SpoolWriterTests {
    func tempDir() -> String {
        let dir = NSTemporaryDirectory() + "apus-spool-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func sample(_ id: String = QueuedMessage.newID(), size: Int) -> QueuedMessage {
        QueuedMessage(id: id, mailFrom: "a@remote.example", recipients: [.init(address: "x@elsewhere.example", original: "x@elsewhere.example")],
                      receivedAt: Date(timeIntervalSince1970: 1_800_000_000), clientAddress: "192.0.2.1",
                      clientName: "client.example", authenticatedUser: nil, smtputf8: false, size: size)
    }

    func body(_ i: Int) -> ByteBuffer {
        ByteBuffer(string: "Subject: \(i)\r\n\r\n" + String(repeating: "line \(i)\r\n", count: i % 50 + 1))
    }

    func names(_ dir: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir).sorted() }

    @Test func concurrentStoresAreAllDurableAndReadBackByAnotherProcess() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try FileSpool(directory: dir, groupCommit: true)
        let metas = (0..<300).map { sample(size: body($0).readableBytes) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, meta) in metas.enumerated() { group.addTask { try await spool.store(meta, message: body(i)) } }
            try await group.waitForAll()
        }
        // Every store returned: each file is complete under its final name, and nothing else is there.
        #expect(try names(dir) == metas.map { "\($0.id).msg" }.sorted())
        let reader = try FileSpool(directory: dir)   // as `apus queue` reads it: from the files
        #expect(try await reader.list().count == 300)
        for (i, meta) in metas.enumerated() {
            let (loaded, bytes) = try await reader.load(id: meta.id)
            #expect(loaded == meta)
            #expect(bytes == body(i))
        }
    }

    @Test func removedFilesAreRecycledAndOverwrittenInPlace() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try FileSpool(directory: dir, groupCommit: true)
        // Messages of 1–8 KiB, and one of 40 KiB (over what a recycled file may keep).
        let bodies = (0..<40).map { i in
            ByteBuffer(string: "Subject: \(i)\r\n\r\n" + String(repeating: "x", count: i == 7 ? 40 * 1024 : 1024 * (i % 8 + 1)))
        }
        let metas = bodies.map { sample(size: $0.readableBytes) }
        for (meta, bytes) in zip(metas, bodies) { try await spool.store(meta, message: bytes) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for meta in metas { group.addTask { try await spool.remove(id: meta.id) } }
            try await group.waitForAll()
        }
        #expect(try await spool.list().isEmpty)
        var left = try names(dir)
        // The files of delivered messages stay as temp files (removed at the next start), none over 16 KiB.
        #expect(left.count == 40 && left.allSatisfy { $0.hasPrefix(".tmp-") })
        let sizes = try left.map { try FileManager.default.attributesOfItem(atPath: "\(dir)/\($0)")[.size] as? Int ?? -1 }
        #expect(sizes.allSatisfy { $0 >= 0 && $0 <= 16 * 1024 })
        #expect(sizes.filter { $0 == 0 }.count == 1)   // the 40 KiB one was emptied
        // New, shorter messages are written into them: no new file is created, and each file is cut to
        // its new length (nothing of the longer message it replaced is read back).
        let more = (0..<10).map { body($0) }
        let moreMetas = more.map { sample(size: $0.readableBytes) }
        for (meta, bytes) in zip(moreMetas, more) { try await spool.store(meta, message: bytes) }
        left = try names(dir)
        #expect(left.filter { $0.hasPrefix(".tmp-") }.count == 30)
        #expect(left.filter { $0.hasSuffix(".msg") }.count == 10)
        let reader = try FileSpool(directory: dir)
        for (meta, bytes) in zip(moreMetas, more) { #expect(try await reader.load(id: meta.id).1 == bytes) }
        // Removing a message that is already gone is not an error (a concurrent `apus queue remove`).
        try await spool.remove(id: QueuedMessage.newID())
    }

    @Test func firstLoadComesFromMemoryButTheFileStaysTheTruth() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try FileSpool(directory: dir, groupCommit: true)
        let other = try FileSpool(directory: dir)   // another process: `apus queue`
        let a = sample(size: 20), b = sample(size: 20)
        try await spool.store(a, message: body(1))
        try await spool.store(b, message: body(2))
        // A state written by another process wins over the envelope kept in memory.
        var changed = a
        changed.recipients[0].state = .sent
        try await other.update(changed)
        let (loaded, bytes) = try await spool.load(id: a.id)
        #expect(loaded == changed && bytes == body(1))
        // A message removed by another process is not delivered from memory.
        try await other.remove(id: b.id)
        await #expect(throws: SpoolError.self) { try await spool.load(id: b.id) }
    }
}
