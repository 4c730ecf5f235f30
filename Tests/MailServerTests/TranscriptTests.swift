import Foundation
import SMTPProtocol
import Testing

/// Transcript tests: each file in `Transcripts/` is a conversation with a live server.
///
/// ```
/// @ mx | submission | submissions     connect to that listener (first line)
/// -> TEXT                             send TEXT and CRLF
/// => TEXT                             send TEXT as raw bytes; \r \n \0 \\ are escapes; nothing appended
/// <- TEXT                             the next reply line is exactly TEXT
/// <~ TEXT                             the next reply line starts with TEXT
/// tls                                 TLS handshake now (after the 220 to STARTTLS)
/// silent                              nothing more arrives within 300 ms
/// closed                              the server closed the connection
/// maildir N                           dev@example.test's Maildir holds N messages
/// queue N                             N messages wait in the queue
/// ```
struct TranscriptTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".txt") }.sorted()
    }

    @Test(arguments: files)
    func transcript(_ name: String) async throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
        let server = try await TestServer()
        do {
            try await Self.run(text, file: name, server: server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func unescape(_ s: Substring) -> [UInt8] {
        var out: [UInt8] = []
        var it = s.utf8.makeIterator()
        while let c = it.next() {
            guard c == UInt8(ascii: "\\"), let e = it.next() else { out.append(c); continue }
            switch e {
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "0"): out.append(0)
            default: out.append(e)
            }
        }
        return out
    }

    static func run(_ script: String, file: String, server: TestServer) async throws {
        var client: TestClient?
        defer { if let client { Task { await client.close() } } }
        for (index, rawLine) in script.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let where_ = "\(file):\(index + 1)"
            if line.isEmpty || line.hasPrefix("#") { continue }
            let arg = line.count > 3 ? line.dropFirst(3) : ""
            switch line.prefix(2) {
            case "@ ":
                let kind = ListenerKind(rawValue: line.dropFirst(2).trimmingCharacters(in: .whitespaces))
                guard let kind, let port = server.ports[kind] else { throw TranscriptError("\(where_): unknown listener") }
                await client?.close()
                client = try await TestClient(port: port, implicitTLS: kind == .submissions)
                continue
            case "->":
                try await client!.send(Array(arg.utf8) + [13, 10])
                continue
            case "=>":
                try await client!.send(unescape(arg))
                continue
            case "<-", "<~":
                let got = try await client!.readLine()
                let expected = String(arg)
                let ok = line.hasPrefix("<-") ? got == expected : (got?.hasPrefix(expected) ?? false)
                #expect(ok, "\(where_): expected \(line.hasPrefix("<-") ? "" : "prefix ")\"\(expected)\", got \(got.map { "\"\($0)\"" } ?? "connection closed")")
                if !ok { return }
                continue
            default:
                break
            }
            let words = line.split(separator: " ")
            switch words[0] {
            case "tls":
                try await client!.startTLS()
            case "silent":
                #expect(try await client!.isSilent(for: .milliseconds(300)), "\(where_): unexpected data from server")
            case "closed":
                #expect(try await client!.isClosed(), "\(where_): connection still open")
            case "maildir":
                let want = Int(words[1])!
                let deadline = ContinuousClock.now + .seconds(5)
                while server.maildirCount() < want && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
                try await Task.sleep(for: .milliseconds(50))
                #expect(server.maildirCount() == want, "\(where_): Maildir has \(server.maildirCount()) messages, want \(want)")
            case "queue":
                #expect(server.queueCount() == Int(words[1])!, "\(where_): queue has \(server.queueCount())")
            default:
                throw TranscriptError("\(where_): unknown transcript directive \(line)")
            }
        }
    }
}
