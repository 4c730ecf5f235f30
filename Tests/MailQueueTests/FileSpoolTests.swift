import Delivery
import Foundation
import MailQueue
import NIOCore
import Testing

struct FileSpoolTests {
    func tempDir() -> String {
        let dir = NSTemporaryDirectory() + "apus-spool-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func sample(_ id: String = QueuedMessage.newID()) -> QueuedMessage {
        QueuedMessage(id: id, mailFrom: "a@remote.example",
                      recipients: [.init(address: "dev@example.test", original: "Dev+x@example.test"),
                                   .init(address: "x@elsewhere.example", original: "x@elsewhere.example")],
                      receivedAt: Date(timeIntervalSince1970: 1_800_000_000), clientAddress: "192.0.2.1",
                      clientName: "client.example", authenticatedUser: nil, smtputf8: false, size: 12)
    }

    @Test func storeLoadUpdateRemove() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try FileSpool(directory: dir)
        let meta = sample()
        try await spool.store(meta, message: ByteBuffer(string: "Subject: x\r\n\r\nbody\r\n"))
        // No temp files are left behind, and the file starts with the documented magic line.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(names == ["\(meta.id).msg"])
        let raw = try String(contentsOfFile: "\(dir)/\(meta.id).msg", encoding: .utf8)
        #expect(raw.hasPrefix("APUS-QUEUE 1\n{"))
        #expect(raw.hasSuffix("\nSubject: x\r\n\r\nbody\r\n"))

        let (loaded, body) = try await spool.load(id: meta.id)
        #expect(loaded == meta)
        #expect(String(buffer: body) == "Subject: x\r\n\r\nbody\r\n")

        var changed = loaded
        changed.recipients[0].state = .sent
        try await spool.update(changed)
        #expect(try await spool.list() == [changed])   // the .state file overrides the header line

        try await spool.remove(id: meta.id)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func rejectsIDsThatAreNotQueueIDs() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try FileSpool(directory: dir)
        for bad in ["../../etc/passwd", "", "ABCDEF0123456789", "0123"] {
            await #expect(throws: SpoolError.self) { try await spool.load(id: bad) }
        }
        #expect(QueuedMessage.isValidID(QueuedMessage.newID()))
    }

    @Test func corruptFileIsReportedWithItsPath() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try FileSpool(directory: dir)
        let id = QueuedMessage.newID()
        try "garbage".write(toFile: "\(dir)/\(id).msg", atomically: true, encoding: .utf8)
        do {
            _ = try await spool.load(id: id)
            Issue.record("corrupt file loaded")
        } catch {
            #expect("\(error)".contains("\(id).msg"))
        }
        #expect(try await spool.list().isEmpty)
    }

    @Test func localDeliveryWritesMaildirAndKeepsRemoteRecipients() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try FileSpool(directory: "\(dir)/queue")
        let meta = sample()
        try await spool.store(meta, message: ByteBuffer(string: "Subject: x\r\n\r\nbody\r\n"))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        // The queue runner with the Maildir courier; remote recipients held (as `apus dev` does).
        let couriers = CourierTable(maildir: MaildirCourier(mailRoot: "\(dir)/mail", hostname: "mx.example.test", logger: logger),
                                    command: CommandCourier(mda: nil, logger: logger), remote: HeldCourier())
        let runner = QueueRunner(settings: .init(hostname: "mx.example.test", holdRemote: true), spool: spool,
                                 couriers: couriers, router: Router(isLocalDomain: { $0 == "example.test" }), logger: logger)
        await runner.process(meta.id)
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/mail/example.test/dev/new")
        #expect(files.count == 1)
        let text = try String(contentsOfFile: "\(dir)/mail/example.test/dev/new/\(files[0])", encoding: .utf8)
        #expect(text == "Return-Path: <a@remote.example>\r\nDelivered-To: dev@example.test\r\nSubject: x\r\n\r\nbody\r\n")
        #expect(files[0].hasSuffix(",S=\(text.utf8.count)"))
        // The remote recipient stays pending; the local one is marked sent.
        let left = try await spool.list()
        #expect(left.count == 1)
        #expect(left.first?.recipients.map(\.state) == [.sent, .pending])
        // Delivering the same message again (a crash before the state was written) does not duplicate the copy.
        try await spool.update(meta)
        await runner.process(meta.id)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/mail/example.test/dev/new").count == 1)
    }
}

import Logging

/// Remote recipients are held in these tests; a call here is a failure.
struct HeldCourier: Courier {
    func deliver(_ batch: DeliveryBatch) async -> [RecipientResult] {
        Issue.record("remote delivery attempted for \(batch.addresses)")
        return RecipientResult.all(batch.addresses, .temporary, .init(4, 0, 0), "held")
    }
}

struct MaildirWriterTests {
    @Test func sameQueuedMessageIsWrittenOnce() throws {
        let dir = NSTemporaryDirectory() + "apus-maildir-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let id = QueuedMessage.newID()
        let body = ByteBuffer(string: "Subject: x\r\n\r\nbody\r\n")
        // As after a crash between the Maildir write and the queue update: the same delivery twice.
        let first = try MaildirWriter.deliver(body, returnPath: "a@b.example", deliveredTo: "dev@example.test",
                                              maildir: dir, hostname: "mx.example.test", queueID: id)
        let second = try MaildirWriter.deliver(body, returnPath: "a@b.example", deliveredTo: "dev@example.test",
                                               maildir: dir, hostname: "mx.example.test", queueID: id)
        #expect(first == second)
        #expect(first.contains(".Q\(id)R"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/new").count == 1)
        // Another recipient of the same message, and a message without a queue id, get their own files.
        try MaildirWriter.deliver(body, returnPath: "a@b.example", deliveredTo: "bob@example.test",
                                  maildir: dir, hostname: "mx.example.test", queueID: id)
        try MaildirWriter.deliver(body, returnPath: "a@b.example", deliveredTo: "dev@example.test",
                                  maildir: dir, hostname: "mx.example.test")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/new").count == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/tmp").isEmpty)
    }
}
