import Foundation
@testable import MailQueue
import Testing

/// The hand-written envelope line against `JSONEncoder` with the settings `FileSpool` used before it.
struct QueuedMessageJSONTests {
    /// What `FileSpool` wrote the envelope line with before `jsonLine()`.
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .secondsSince1970
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func plain() -> QueuedMessage {
        QueuedMessage(id: "6b14d20f5a41140d", mailFrom: "bench@src.test",
                      recipients: [.init(address: "sink@sink.test", original: "bench@bench.test")],
                      receivedAt: Date(timeIntervalSince1970: 1_800_000_000), clientAddress: "127.0.0.1",
                      clientName: "bench.client", authenticatedUser: nil, smtputf8: false, size: 4096)
    }

    static func full() -> QueuedMessage {
        var meta = QueuedMessage(id: "0123456789abcdef", mailFrom: "",
                                 recipients: [], receivedAt: Date(timeIntervalSince1970: 1_765_000_000.123456),
                                 clientAddress: "2001:db8::1", clientName: "odd \"name\" \\ with/slash",
                                 authenticatedUser: "ünïcødé@例え.jp", smtputf8: true, size: 25_000_000)
        var first = QueuedMessage.Recipient(address: "a@x.example", original: "A@X.example", state: .failed,
                                            attempts: 3, lastReply: "550 5.1.1 <a@x.example>: no such user\r\n\tcontinued \u{1}\u{1f}")
        first.remoteMTA = "mx.x.example [192.0.2.7]"
        first.mailFrom = "SRS0=abcd=TT=src.test=bench@bench.test"
        first.route = .remote
        first.lastStatus = "5.1.1"
        first.diagnosis = "The address does not exist at Gmail: remove it from your list."
        first.provider = "gmail"
        var second = QueuedMessage.Recipient(address: "list", original: "list@here.example")
        second.command = "/usr/bin/procmail -a \"$EXTENSION\""
        second.route = .pipe
        meta.recipients = [first, second, .init(address: "b@y.example", original: "b@y.example", state: .sent, attempts: 1)]
        meta.nextAttempt = Date(timeIntervalSince1970: 1_765_000_600.5)
        meta.delayWarningSent = Date(timeIntervalSince1970: 1_765_000_300)
        meta.requireTLS = true
        return meta
    }

    @Test(arguments: [plain(), full()])
    func sameBytesAsJSONEncoder(meta: QueuedMessage) throws {
        let line = meta.jsonLine()
        #expect(String(decoding: line, as: UTF8.self) == String(decoding: try Self.encoder.encode(meta), as: UTF8.self))
        #expect(try FileSpool.decoder().decode(QueuedMessage.self, from: Data(line)) == meta)
    }

    @Test func fractionalDatesReadBackExactly() throws {
        for seconds in [0.1, 1_765_000_000.000001, 1_765_000_000.999999, -1.5, 4_102_444_800.25] {
            var meta = Self.plain()
            meta.receivedAt = Date(timeIntervalSince1970: seconds)
            meta.nextAttempt = Date(timeIntervalSince1970: seconds + 0.75)
            let decoded = try FileSpool.decoder().decode(QueuedMessage.self, from: Data(meta.jsonLine()))
            #expect(decoded == meta)
        }
    }
}
