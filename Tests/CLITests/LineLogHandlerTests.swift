@testable import CLI
import Foundation
import Logging
import Synchronization
import Testing

/// The server's log lines are the lines swift-log's `StreamLogHandler` wrote before (operators' tools and
/// our tests parse them): same layout for the same events, timestamp aside.
struct LineLogHandlerTests {
    final class Capture: TextOutputStream, @unchecked Sendable {
        var text = ""
        func write(_ string: String) { text += string }
    }

    struct Failure: Error, CustomStringConvertible { var description: String { "disk full" } }

    static let events: [(Logger.Metadata, Logger.Metadata?, (any Error)?, String)] = [
        ([:], nil, nil, "connect from 127.0.0.1 on mx 127.0.0.1:25"),
        (["conn": "93vi"], nil, nil, "disconnect from 127.0.0.1"),
        (["conn": "93vi", "a": "first"], ["id": "6b14d20f5a41140d", "z": "last"], nil, "queued id=6b14d20f5a41140d"),
        ([:], ["path": "/var/lib/apus/queue"], Failure(), "cannot write: é ☃ \"quoted\""),
    ]

    @Test(arguments: 0..<4)
    func sameLineAsStreamLogHandler(index: Int) {
        let (base, explicit, error, text) = Self.events[index]
        let capture = Capture()
        var stream = StreamLogHandler(label: "apus", stream: capture, metadataProvider: nil)
        var line = LineLogHandler(label: "apus", metadataProvider: nil)
        stream.metadata = base
        line.metadata = base
        let event = LogEvent(level: .notice, message: "\(text)", error: error, metadata: explicit, source: "MailServer",
                             file: #fileID, function: #function, line: #line)
        stream.log(event: event)
        let theirs = capture.text.split(separator: " ", maxSplits: 1).last.map(String.init)
        let ours = String(decoding: line.format(event, timestamp: "TIME"), as: UTF8.self)
        #expect(ours.hasPrefix("TIME "))
        #expect(ours.dropFirst(5) == theirs?[...])
    }

    @Test func timestampIsTheLocalTimeOfThatSecond() {
        let now = time(nil)
        var parts = tm()
        var seconds = now
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        let expected = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #expect(LineLogHandler.timestamp(now: now) == expected)
        #expect(LineLogHandler.timestamp(now: now + 1) != LineLogHandler.timestamp(now: now))
    }
}
