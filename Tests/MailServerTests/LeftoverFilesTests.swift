import Foundation
import Testing

/// After a crash, the temp files of interrupted writes are removed at start, and the log says so.
struct LeftoverFilesTests {
    @Test func temporaryFilesOfInterruptedWritesAreRemovedAtStart() async throws {
        let log = CapturedLog()
        var data = ""
        let ours = "1764900000.Q0123456789abcdefR1f2e.mx.example.test,S=10"
        let imapServers = "1764900000.M12P34.otherhost,S=20"
        let server = try await TestServer(log: log, prepare: { config in
            data = (config as NSString).deletingLastPathComponent + "/data"
            let fm = FileManager.default
            try fm.createDirectory(atPath: "\(data)/queue", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: "\(data)/mail/example.test/dev/tmp", withIntermediateDirectories: true)
            try String(repeating: "x", count: 100).write(toFile: "\(data)/queue/.tmp-1a2b", atomically: false, encoding: .utf8)
            try "".write(toFile: "\(data)/queue/.tmp-3c4d", atomically: false, encoding: .utf8)
            for name in [".tmp-5e6f", ours, imapServers] {
                try "0123456789".write(toFile: "\(data)/mail/example.test/dev/tmp/\(name)", atomically: false, encoding: .utf8)
            }
        })
        let queue = try FileManager.default.contentsOfDirectory(atPath: "\(data)/queue")
        #expect(!queue.contains { $0.hasPrefix(".tmp-") }, "\(queue)")
        let tmp = try FileManager.default.contentsOfDirectory(atPath: "\(data)/mail/example.test/dev/tmp")
        #expect(tmp == [imapServers], "another program's file in tmp/ must stay: \(tmp)")
        let lines = log.entries.map(\.message).filter { $0.hasPrefix("removed ") }
        #expect(lines.contains("removed 2 temporary file(s), 100 bytes, left in \(data)/queue/ by an interrupted write (a crash or kill)"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("removed 2 temporary file(s), 20 bytes, left in the tmp/ of Maildirs under \(data)/mail/") }, "\(lines)")
        await server.stop()
    }
}
