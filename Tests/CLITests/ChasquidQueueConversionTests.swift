import Chasquid
import Foundation
import MailQueue
import Testing
@testable import CLI

/// A chasquid queue item → an Apus envelope: pending recipients only, pipes as commands, failures reported,
/// LF → CRLF, and the same Apus id every time.
@Suite struct ChasquidQueueConversionTests {
    static let item = #"""
        ID: "q1"
        from: "<>"
        rcpt: { address: "a@example.test" original_address: "info@example.test" }
        rcpt: { address: "b@remote.test" status: SENT }
        rcpt: { address: "c@remote.test" status: FAILED last_failure_message: "550 5.1.1 no such user" }
        rcpt: { address: "/usr/bin/handler -x" type: PIPE original_address: "list@example.test" }
        rcpt: { address: "d@remote.test" type: FORWARD via: "smarthost.example" via: "backup.example" }
        rcpt: { address: "A@example.test" original_address: "nobody@example.test" }
        data: "Subject: x\nX: y\r\n\nbody\n"
        created_at_ts: { seconds: 1796505438 nanos: 1 }
        """#

    @Test func pendingRecipientsBecomeAnApusEnvelope() throws {
        let item = try ChasquidQueueItem.parse(Array(Self.item.utf8))
        var notes: [ImportNote] = []
        let (meta, body) = try #require(QueuePlan.convert(item, notes: &notes, source: "queue/m:q1"))
        #expect(meta.mailFrom == "")
        #expect(meta.recipients.map(\.address) == ["a@example.test", "list@example.test", "d@remote.test"])
        #expect(meta.recipients.map(\.original) == ["info@example.test", "list@example.test", "d@remote.test"])
        #expect(meta.recipients.map(\.command) == [nil, "/usr/bin/handler -x", nil])
        #expect(meta.recipients.allSatisfy { $0.state == .pending })
        #expect(String(decoding: body, as: UTF8.self) == "Subject: x\r\nX: y\r\n\r\nbody\r\n")
        #expect(meta.size == body.count)
        #expect(meta.receivedAt == Date(timeIntervalSince1970: 1_796_505_438))
        #expect(meta.id == QueuePlan.apusID("q1", created: meta.receivedAt))
        #expect(QueuedMessage.isValidID(meta.id))
        #expect(notes.map(\.text).contains { $0.contains("<c@remote.test> had failed for good in chasquid (550 5.1.1 no such user)") })
        #expect(notes.map(\.text).contains { $0.contains("<d@remote.test> was to go via smarthost.example, backup.example") })
    }

    @Test func anItemWithNothingPendingIsSkipped() throws {
        let item = try ChasquidQueueItem.parse(Array("ID: \"q2\" from: \"a@b.test\" rcpt: { address: \"x@y.test\" status: SENT } data: \"\"".utf8))
        var notes: [ImportNote] = []
        #expect(QueuePlan.convert(item, notes: &notes, source: "m:q2") == nil)
    }

    @Test func idsAreStableAndDistinct() {
        let t = Date(timeIntervalSince1970: 1_796_505_438)
        #expect(QueuePlan.apusID("abc", created: t) == QueuePlan.apusID("abc", created: t))
        #expect(QueuePlan.apusID("abc", created: t) != QueuePlan.apusID("abd", created: t))
        #expect(QueuePlan.apusID("abc", created: t).hasPrefix("6b147f5e"))
    }
}

