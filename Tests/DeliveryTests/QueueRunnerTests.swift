import Delivery
import Foundation
import Logging
import MailQueue
import NIOCore
import SMTPProtocol
import SMTPTransport
import Synchronization
import Testing

/// The runner's logic without sockets or waiting: an in-memory spool, fake couriers that answer from a
/// script, and a fake clock moved by hand. Each test calls `process(id)` as the scheduler would.
@Suite struct QueueRunnerTests {
    /// A clock tests move by hand.
    final class FakeClock: Sendable {
        let value = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { value.withLock { $0 } }
        func advance(_ seconds: Double) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
        func set(_ date: Date) { value.withLock { $0 = date } }
    }

    /// A courier answering each recipient from `answer` (by address and attempt number, from 1), recording
    /// every batch it was given.
    final class FakeCourier: Courier {
        let answer: @Sendable (String, Int) -> RecipientResult
        let batches = Mutex<[DeliveryBatch]>([])
        init(_ answer: @escaping @Sendable (String, Int) -> RecipientResult) { self.answer = answer }
        var given: [DeliveryBatch] { batches.withLock { $0 } }
        func attempts(of address: String) -> Int { given.filter { $0.addresses.contains(address) }.count }
        func deliver(_ batch: DeliveryBatch) async -> [RecipientResult] {
            let attempt = batches.withLock { list in
                list.append(batch)
                return list.filter { $0.addresses == batch.addresses }.count
            }
            return batch.addresses.map { answer($0, attempt) }
        }
    }

    static func reply(_ address: String, _ line: String) -> RecipientResult {
        let code = Int(line.prefix(3))!
        return RecipientResult(address: address, reply: SMTPClientReply(code: code, lines: [String(line.dropFirst(4))]),
                               remoteMTA: "mx.remote.test [192.0.2.1]")
    }

    /// By local part: ok… 250, reject… 550 5.1.1, later… 451 4.2.1, gmail… 550 5.7.26 from Gmail.
    static let byLocalPart: @Sendable (String, Int) -> RecipientResult = { address, _ in
        if address.hasPrefix("reject") { return reply(address, "550 5.1.1 <\(address)>: no such user") }
        if address.hasPrefix("later") { return reply(address, "451 4.2.1 mailbox busy") }
        if address.hasPrefix("gmail") {
            return reply(address, "550 5.7.26 This mail has been blocked because the sender is unauthenticated. gsmtp")
        }
        return reply(address, "250 2.0.0 Ok: queued")
    }

    /// What the observer heard.
    final class EventLog: Sendable {
        let list = Mutex<[DeliveryEvent]>([])
    }

    final class Setup: Sendable {
        let spool = MemorySpool()
        let clock = FakeClock()
        let remote: FakeCourier
        let local = FakeCourier { address, _ in
            RecipientResult(address: address, outcome: .sent, status: .init(2, 0, 0), reason: "delivered to maildir")
        }
        let command = FakeCourier { address, _ in
            RecipientResult(address: address, outcome: .sent, status: .init(2, 0, 0), reason: "delivered to command")
        }
        let events = EventLog()
        let runner: QueueRunner

        init(remote: @escaping @Sendable (String, Int) -> RecipientResult = QueueRunnerTests.byLocalPart,
             delays: [Duration] = [.seconds(60)], giveUpAfter: Duration = .seconds(3600),
             delayWarningAfter: Duration = .seconds(4 * 3600), lmtp: Bool = false) {
            self.remote = FakeCourier(remote)
            let table = CourierTable(maildir: local, lmtp: lmtp ? local : nil, command: command, remote: self.remote)
            let clock = self.clock, events = self.events
            var logger = Logger(label: "runner-test")
            logger.logLevel = .critical
            runner = QueueRunner(
                settings: .init(hostname: "mx.local.test", schedule: RetrySchedule(delays: delays, giveUpAfter: giveUpAfter),
                                delayWarningAfter: delayWarningAfter),
                spool: spool, couriers: table, router: Router(isLocalDomain: { $0 == "local.test" }),
                clock: { clock.now }, jitter: { 0 }, observer: { e in events.list.withLock { $0.append(e) } }, logger: logger)
        }

        func enqueue(from: String = "sender@local.test", _ recipients: [QueuedMessage.Recipient]) async throws -> String {
            let id = QueuedMessage.newID(now: clock.now)
            let text = "From: <\(from)>\r\nSubject: runner test\r\n\r\nHello.\r\n"
            try await spool.store(QueuedMessage(id: id, mailFrom: from, recipients: recipients, receivedAt: clock.now,
                                                clientAddress: "127.0.0.1", clientName: "client.test", authenticatedUser: nil,
                                                smtputf8: false, size: text.utf8.count),
                                  message: ByteBuffer(string: text))
            return id
        }

        func meta(_ id: String) async -> QueuedMessage? { try? await spool.load(id: id).0 }

        /// The DSNs queued so far (from `<>`), with their text.
        func notices() async throws -> [(QueuedMessage, String)] {
            var out: [(QueuedMessage, String)] = []
            for meta in try await spool.list() where meta.mailFrom.isEmpty && meta.clientName == "localhost" {
                let body = try await spool.load(id: meta.id).1
                out.append((meta, String(decoding: body.readableBytesView, as: UTF8.self)))
            }
            return out
        }

        var results: [DeliveryEvent.Result] { events.list.withLock { $0.map(\.result) } }
    }

    static func rcpt(_ address: String, route: Route? = nil, command: String? = nil) -> QueuedMessage.Recipient {
        var r = QueuedMessage.Recipient(address: address, original: address)
        r.route = route
        r.command = command
        return r
    }

    /// One attempt, four recipients: sent, bounced at once (one DSN, typed status), deferred (retry due in
    /// 60 s), and a local one through the Maildir courier; the remote three in one batch.
    @Test func partialFailure() async throws {
        let s = Setup()
        let id = try await s.enqueue([Self.rcpt("ok@remote.test"), Self.rcpt("reject@remote.test"),
                                      Self.rcpt("later@remote.test"), Self.rcpt("user@local.test")])
        await s.runner.process(id)
        let meta = try #require(await s.meta(id))
        #expect(meta.recipients.map(\.state) == [.sent, .failed, .pending, .sent])
        #expect(meta.recipients.map(\.lastStatus) == ["2.0.0", "5.1.1", "4.2.1", "2.0.0"])
        #expect(s.remote.given.map(\.addresses) == [["ok@remote.test", "reject@remote.test", "later@remote.test"]])
        #expect(s.remote.given.first?.destination == "remote.test")
        #expect(s.local.given.map(\.addresses) == [["user@local.test"]])
        #expect(await s.runner.dueDate(of: id) == s.clock.now.addingTimeInterval(60))
        #expect(meta.nextAttempt == s.clock.now.addingTimeInterval(60))
        let notices = try await s.notices()
        #expect(notices.count == 1)
        #expect(notices.first?.0.recipients.map(\.address) == ["sender@local.test"])
        #expect(notices.first?.0.recipients.first?.route == .maildir)
        #expect(notices.first?.1.contains("Status: 5.1.1") == true)
        #expect(notices.first?.1.contains("Final-Recipient: rfc822;reject@remote.test") == true)
        #expect(notices.first?.1.contains("later@remote.test") == false)
        #expect(s.results.sorted { $0.rawValue < $1.rawValue } == [.bounced, .deferred, .sent, .sent])
        let bounced = try #require(s.events.list.withLock { $0.first { $0.result == .bounced } })
        #expect(bounced.enhancedStatus == "5.1.1" && bounced.kind == .remote && bounced.messageID == id)
        #expect(bounced.diagnosis?.contains("does not exist") == true)
    }

    /// Retries at the schedule's times until give_up_after, then one DSN with 4.4.7 quoting the last reply.
    @Test func retriesThenGivesUp() async throws {
        let s = Setup(delays: [.seconds(60), .seconds(600)], giveUpAfter: .seconds(1800))
        let id = try await s.enqueue([Self.rcpt("later@remote.test")])
        var waits: [Double] = []
        for _ in 0..<20 {
            await s.runner.process(id)
            guard let due = await s.runner.dueDate(of: id), await s.meta(id) != nil else { break }
            waits.append(due.timeIntervalSince(s.clock.now))
            s.clock.set(due)
        }
        #expect(waits == [60, 600, 600, 540])   // the last retry moved to the give-up time exactly
        #expect(await s.meta(id) == nil)
        #expect(s.remote.attempts(of: "later@remote.test") == 5)
        let notices = try await s.notices()
        #expect(notices.count == 1)
        let text = try #require(notices.first?.1)
        #expect(text.contains("Status: 4.4.7"))
        #expect(text.contains("gave up after 30m: 451 4.2.1 mailbox busy"))
        #expect(s.results == [.deferred, .deferred, .deferred, .deferred, .bounced])
    }

    /// One "delayed" DSN once the message is older than delay_warning_after, never a second; the observer
    /// hears `.delayed`; delivery later succeeds without another notice.
    @Test func delayWarningOnce() async throws {
        let s = Setup(remote: { address, attempt in
            attempt < 5 ? QueueRunnerTests.reply(address, "451 4.7.0 try later") : QueueRunnerTests.reply(address, "250 2.0.0 ok")
        }, delays: [.seconds(60)], giveUpAfter: .seconds(86400), delayWarningAfter: .seconds(150))
        let id = try await s.enqueue([Self.rcpt("a@remote.test")])
        var noticesAfter: [Int] = []
        for _ in 0..<5 {
            await s.runner.process(id)
            noticesAfter.append(try await s.notices().count)
            if let due = await s.runner.dueDate(of: id) { s.clock.set(due) }
        }
        #expect(noticesAfter == [0, 0, 0, 1, 1])   // at 0, 60 and 120 s too young; at 180 s warned; 240 s sent
        #expect(await s.meta(id) == nil)
        let (notice, text) = try #require(try await s.notices().first)
        #expect(notice.recipients.first?.address == "sender@local.test")
        #expect(text.contains("Subject: Delayed mail (still being retried)"))
        #expect(text.contains("Action: delayed"))
        #expect(text.contains("Will-Retry-Until:"))
        #expect(s.results.filter { $0 == .delayed }.count == 1)
        #expect(s.results.last == .sent)
    }

    /// "0s" turns the warning off; a message from `<>` never gets one (nor a bounce).
    @Test(arguments: [(Duration.zero, "sender@local.test"), (.seconds(1), "")])
    func noDelayWarning(after: Duration, from: String) async throws {
        let s = Setup(remote: { a, _ in QueueRunnerTests.reply(a, "451 4.7.0 later") }, delayWarningAfter: after)
        let id = try await s.enqueue(from: from, [Self.rcpt("a@remote.test")])
        for _ in 0..<4 {
            await s.runner.process(id)
            s.clock.advance(600)
        }
        #expect(try await s.notices().isEmpty)
        #expect(!s.results.contains(.delayed))
    }

    /// Stored routes are followed; a queue file without routes is routed as before (command → pipe, local
    /// domain → the local route, else remote); a stored `lmtp` route with no LMTP server configured now
    /// goes to the Maildir courier.
    @Test func routesStoredAndDerived() async throws {
        let s = Setup()
        let id = try await s.enqueue([Self.rcpt("list@local.test", command: "cat >/dev/null"),
                                      Self.rcpt("user@local.test"), Self.rcpt("x@remote.test"),
                                      Self.rcpt("y@local.test", route: .lmtp),
                                      Self.rcpt("z@other.test", route: .remote, command: nil)])
        await s.runner.process(id)
        #expect(s.command.given.map(\.addresses) == [["list@local.test"]])
        #expect(s.command.given.first?.route == .pipe)
        #expect(s.local.given.flatMap(\.addresses).sorted() == ["user@local.test", "y@local.test"])
        #expect(s.remote.given.map(\.destination).sorted() == ["other.test", "remote.test"])
        #expect(await s.meta(id) == nil)
    }

    /// With an LMTP courier configured, local recipients of one sender go in one batch.
    @Test func lmtpBatchesLocalRecipients() async throws {
        let s = Setup(lmtp: true)
        let id = try await s.enqueue([Self.rcpt("a@local.test"), Self.rcpt("b@local.test")])
        await s.runner.process(id)
        #expect(s.local.given.map(\.addresses) == [["a@local.test", "b@local.test"]])
        #expect(s.local.given.first?.route == .lmtp)
    }

    /// Forwarded recipients with their own (SRS) envelope sender go in their own transaction.
    @Test func groupsByEnvelopeSender() async throws {
        let s = Setup()
        var forwarded = Self.rcpt("f@remote.test")
        forwarded.mailFrom = "SRS0=abcd=XY=local.test=sender@local.test"
        let id = try await s.enqueue([Self.rcpt("ok@remote.test"), forwarded])
        await s.runner.process(id)
        #expect(Set(s.remote.given.map(\.mailFrom)) == ["sender@local.test", "SRS0=abcd=XY=local.test=sender@local.test"])
    }

    /// A known provider code: the recipient keeps its diagnosis, the event carries it, the DSN's text says it.
    @Test func diagnosisRecordedAndInTheBounce() async throws {
        let s = Setup()
        let id = try await s.enqueue([Self.rcpt("gmail@remote.test")])
        await s.runner.process(id)
        let event = try #require(s.events.list.withLock { $0.first })
        #expect(event.result == .bounced)
        #expect(event.enhancedStatus == "5.7.26")
        #expect(event.diagnosis?.contains("neither SPF nor DKIM") == true)
        let text = try #require(try await s.notices().first?.1)
        #expect(text.contains("What this means: Gmail refused mail that passed neither SPF nor DKIM"))
    }
}
