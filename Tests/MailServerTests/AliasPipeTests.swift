import Delivery
import Foundation
import MailQueue
import NIOCore
import Testing

/// `| command` aliases: the queued message through `PipeCourier` to a real command (issue 5).
@Suite struct AliasPipeTests {
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "apus-pipe-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func pipeAliasGetsTheExactMessage() async throws {
        let out = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let command = "cat > '\(out)/message' && printf '%s|%s|%s' \"$SENDER\" \"$RECIPIENT\" \"$ORIGINAL_RECIPIENT\" > '\(out)/env'"
        let server = try await AliasServerTests.server(aliases: "list: | \(command)\n*: list\n")
        let body = "Subject: pipe\r\nX-Bytes: \u{00e9}\t\r\n\r\nline 1\r\n..dot\r\nlast"
        let sent = try await AliasServerTests.send(server, from: "bob@sender.test", to: ["random@example.test"],
                                                   message: body + "\r\n")
        let id = try #require(sent.queueID)
        // The server's queue runner runs the command right after the 250.
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: out + "/env") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(100))
        await server.stop()
        let written = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out + "/message")), as: UTF8.self)
        // Exactly the accepted message: our Received header, then the client's bytes, unstuffed, CRLF kept.
        #expect(written.hasPrefix("Authentication-Results: mx.example.test;"))
        #expect(written.contains("\r\nReceived: from "))
        #expect(written.contains("id \(id)"))
        #expect(written.hasSuffix("\r\n" + body.replacingOccurrences(of: "..dot", with: ".dot") + "\r\n"))
        #expect(try String(contentsOfFile: out + "/env", encoding: .utf8) == "bob@sender.test|list@example.test|random@example.test")
        #expect(server.queueCount() == 0)
    }

    @Test func largeMessageToACommandThatReadsLate() async throws {
        let out = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: out) }
        var bytes: [UInt8] = []
        for i in 0..<200_000 { bytes.append(UInt8(truncatingIfNeeded: i * 7)) }
        let outcome = await PipeCourier(timeout: .seconds(20))
            .deliver(command: "sleep 0.2; echo starting; cat > '\(out)/big'", message: ByteBuffer(bytes: bytes),
                     sender: "", recipient: "a@example.test")
        #expect(outcome == .delivered)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/big"))) == bytes)
    }

    @Test(arguments: [
        ("exit 0", PipeCourier.Outcome.delivered),
        ("echo 'try later' >&2; exit 75", .temporary("the command exited with status 75 (temporary failure): try later")),
        ("echo no such list; echo second line; exit 67", .permanent("the command exited with status 67: no such list | second line")),
        ("exit 1", .permanent("the command exited with status 1")),
        ("kill -TERM $$", .temporary("the command was killed by signal 15")),
        ("head -c 1 >/dev/null; exit 0", .delivered),          // stops reading early: EPIPE, not a crash
    ])
    func outcomes(command: String, expected: PipeCourier.Outcome) async {
        let message = ByteBuffer(bytes: Array(repeating: UInt8(ascii: "x"), count: 300_000))
        #expect(await PipeCourier(timeout: .seconds(10)).deliver(command: command, message: message, sender: "s@x.test",
                                                                  recipient: "r@example.test") == expected)
    }

    /// Commands started at once must not inherit one another's pipes (or `cat` would never see its input end).
    @Test func concurrentCommandsDoNotShareDescriptors() async throws {
        let out = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let outcomes = await withTaskGroup(of: PipeCourier.Outcome.self) { group in
            for i in 0..<12 {
                group.addTask {
                    await PipeCourier(timeout: .seconds(10)).deliver(command: "cat > '\(out)/m\(i)'; sleep 0.1",
                                                                     message: ByteBuffer(string: "message \(i)\r\n"),
                                                                     sender: "", recipient: "r@example.test")
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes == Array(repeating: .delivered, count: 12))
        for i in 0..<12 {
            #expect(try String(contentsOfFile: "\(out)/m\(i)", encoding: .utf8) == "message \(i)\r\n")
        }
    }

    @Test func timeoutKillsTheCommandAndIsTemporary() async {
        let start = ContinuousClock.now
        let outcome = await PipeCourier(timeout: .milliseconds(300))
            .deliver(command: "echo started; sleep 120", message: ByteBuffer(string: "x"), sender: "", recipient: "r@example.test")
        #expect(outcome == .temporary("timed out after 0.3 seconds: started"))
        #expect(ContinuousClock.now - start < .seconds(60))    // far below the sleep, even on a loaded machine
    }

    @Test func backgroundProcessDoesNotHoldDelivery() async {
        let start = ContinuousClock.now
        let outcome = await PipeCourier(timeout: .seconds(10))
            .deliver(command: "(sleep 30 &) ; exit 0", message: ByteBuffer(string: "x"), sender: "", recipient: "r@example.test")
        #expect(outcome == .delivered)
        #expect(ContinuousClock.now - start < .seconds(25))
    }
}
