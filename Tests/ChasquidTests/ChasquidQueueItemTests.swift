import Testing
@testable import Chasquid

@Suite struct ChasquidQueueItemTests {
    /// Written by Debian's chasquid 1.11 for a message to an alias that forwards, the catch-all and a user.
    static let real = #"""
        ID: "oW55VzNADhk"
        from: "sender@outside.test"
        To: "fwd@example.test"
        To: "nobody@example.test"
        rcpt: {
          address: "someone@remote.test"
          last_failure_message: "all MXs returned transient failures"
          original_address: "fwd@example.test"
        }
        rcpt: {
          address: "bob@example.test"
          status: SENT
          original_address: "nobody@example.test"
        }
        rcpt: {
          address: "/usr/bin/handler --x"
          type: PIPE
          original_address: "pipe@example.test"
        }
        data: "Received: from x\nFrom: sender@outside.test\nSubject: hi\n\nHello.\n"
        created_at_ts: {
          seconds: 1796505438
          nanos: 440125440
        }
        """#

    @Test func readsARealItem() throws {
        let item = try ChasquidQueueItem.parse(Array(Self.real.utf8))
        #expect(item.id == "oW55VzNADhk")
        #expect(item.from == "sender@outside.test")
        #expect(item.to == ["fwd@example.test", "nobody@example.test"])
        #expect(item.recipients.map(\.address) == ["someone@remote.test", "bob@example.test", "/usr/bin/handler --x"])
        #expect(item.recipients.map(\.status) == [.pending, .sent, .pending])
        #expect(item.recipients.map(\.type) == [.email, .email, .pipe])
        #expect(item.recipients[0].originalAddress == "fwd@example.test")
        #expect(String(decoding: item.data, as: UTF8.self).hasSuffix("\n\nHello.\n"))
        #expect(item.createdAt == 1_796_505_438)
    }

    static let malformed: [(String, Int, String)] = [
        ("from: \"a@b\"\ndata: \"x\"", 1, "needs an \"ID\""),
        ("ID: \"x\"\ndata: \"x\"", 1, "has no \"from\""),
        ("ID: \"x\"\nfrom: \"a@b\"\nrcpt: { address: \"c@d\" }", 3, "has no \"data\""),
        ("ID: \"x\"\nfrom: \"a@b\"\nrcpt: {\n  status: PENDING\n}\ndata: \"\"", 3, "a \"rcpt\" has no \"address\""),
        ("ID: \"x\"\nfrom: \"a@b\"\ndata: \"Hello\n", 3, "not closed"),
        ("ID: \"x\"\nID: \"y\"", 2, "given twice"),
    ]

    @Test(arguments: malformed) func malformedItemsNameTheLine(_ input: String, _ line: Int, _ reason: String) {
        do {
            _ = try ChasquidQueueItem.parse(Array(input.utf8))
            Issue.record("parsed")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }
}
