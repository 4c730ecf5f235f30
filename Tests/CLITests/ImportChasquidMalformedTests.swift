import Foundation
import Testing

/// A malformed or truncated chasquid file stops `apus import chasquid` with the file and line, and nothing
/// is written: no configuration directory, no queue.
@Suite struct ImportChasquidMalformedTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var file: String
        /// Replaces the file's text.
        var text: @Sendable (String) -> String
        var line: Int
        var reason: String
        var testDescription: String { "\(file): \(reason)" }
    }

    static let cases: [Case] = [
        // The users file cut in the middle of the second user's hash (as a full disk would leave it).
        .init(file: "domains/example.test/users", text: { text in
            let cut = text.range(of: "encrypted", options: .backwards)!.upperBound
            return String(text[..<cut]) + ": \"\\x1dx\\x1e"
        }, line: 23, reason: "unexpected end of file inside a string"),
        .init(file: "domains/example.test/users", text: { $0.replacingOccurrences(of: "logN: 14", with: "logN: fourteen") },
              line: 5, reason: "\"logN\" must be an integer, not fourteen"),
        .init(file: "chasquid.conf", text: { $0 + "max_data_size_mb: 20\n" }, line: 4, reason: "\"max_data_size_mb\" is given twice (first on line 2)"),
        .init(file: "chasquid.conf", text: { $0 + "hostname_x \"y\"\n" }, line: 4, reason: "expected \":\" after \"hostname_x\""),
        .init(file: "queue/m:abc", text: { _ in "ID: \"abc\"\nfrom: \"a@example.org\"\nrcpt: {\n  address: \"b@example.test\"\n}\ndata: \"Subject: x\\n\\nbody" },
              line: 6, reason: "unexpected end of file inside a string"),
        .init(file: "queue/m:abc", text: { _ in "ID: \"abc\"\nfrom: \"a@example.org\"\nrcpt: {\n  address: \"b@example.test\"\n" },
              line: 5, reason: "unexpected end of file: missing \"}\""),
    ]

    @Test(arguments: cases) func nothingIsWritten(_ c: Case) async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let source = "\(root)/chasquid", queue = "\(root)/chasquid-queue"
        try FileManager.default.createDirectory(atPath: "\(source)/domains/example.test", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: queue, withIntermediateDirectories: true)
        try "# test\nmax_data_size_mb: 10\nhostname: \"mx.example.test\"\n".write(toFile: "\(source)/chasquid.conf", atomically: true, encoding: .utf8)
        try "info: alice\n".write(toFile: "\(source)/domains/example.test/aliases", atomically: true, encoding: .utf8)
        for user in ["alice", "bob"] {
            try await ChasquidSource.run(ChasquidSource.util, ["-C=\(source)", "user-add", "\(user)@example.test", "--password=pw-\(user)"])
        }
        let path = c.file.hasPrefix("queue/") ? "\(queue)/\(c.file.dropFirst(6))" : "\(source)/\(c.file)"
        let old = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        try c.text(old).write(toFile: path, atomically: true, encoding: .utf8)

        let config = "\(root)/apus", data = "\(root)/apus-data"
        let result = try await ApusProcess.run(["import", "chasquid", source, "--config", config, "--data-dir", data, "--queue", queue])
        #expect(result.status != 0)
        #expect(result.err.contains("\(path):\(c.line): \(c.reason)"), "\(result.err)")
        #expect(result.err.contains("nothing was imported"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: config), "the configuration was written")
        #expect(!FileManager.default.fileExists(atPath: data), "the data directory was written")
    }
}
