import Delivery
import DNSCore
import Foundation
import MailQueue
import Testing

/// A fake MX answering every code of the diagnosis table (`DiagnosisTests.cases`, as the receivers send
/// them): the sentence of each 4xx shows in `apus queue show` (still queued), of each 5xx in the DSN's text.
@Suite struct DiagnosisDeliveryTests {
    /// Local part (t-N deferred, p-N refused) → the MX's reply to RCPT, and the words the diagnosis must
    /// contain, with our sending IP and host name here (127.0.0.1, mx.local.test).
    static let answers: [(String, String, String)] = DiagnosisTests.cases.enumerated().compactMap { n, c in
        guard let code = Int(c.reply.prefix(3)) else { return nil }   // our own reasons have no reply code
        let line = String(c.reply.prefix(3)) + " " + c.reply.dropFirst(4)   // one line: "421-…" would continue
        let words = c.expected.replacingOccurrences(of: "203.0.113.7", with: "127.0.0.1")
            .replacingOccurrences(of: "mx.example.com", with: "mx.local.test")
        return ((code < 500 ? "t-" : "p-") + "\(n)", line, words)
    }

    @Test func sentencesInQueueShowAndTheBounce() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ServerDeliveryTests.apusBinary),
                     "\(ServerDeliveryTests.apusBinary) is missing: run swift build --build-tests first")
        var dns = StaticResolver()
        dns.add("codes.test", .mx(preference: 10, exchange: "mx.codes.test"))
        dns.add("mx.codes.test", .a(IPAddress("127.0.0.14")!))
        let mx = try await FakeMX.start(ip: "127.0.0.14", port: 0, behavior: .init(rcpt: { address in
            let local = String(address.split(separator: "@")[0])
            return Self.answers.first { $0.0 == local }?.1 ?? "250 2.1.5 Ok"
        }))
        let harness = try DeliveryHarness(dns: dns, port: mx.port,
                                          schedule: RetrySchedule(delays: [.seconds(3600)], giveUpAfter: .seconds(86400)))
        let id = try await harness.enqueue(from: "sender@local.test", to: Self.answers.map { "\($0.0)@codes.test" })
        #expect(await DeliveryHarness.waitUntil { harness.maildir("sender").count == 1 })

        // The bounce: one paragraph per refused recipient, each with its sentence.
        let dsn = try #require(harness.maildir("sender").first).replacingOccurrences(of: "\r\n", with: "\n")
        #expect(Self.answers.filter { $0.0.hasPrefix("p-") }.count >= 10)
        for (local, _, words) in Self.answers where local.hasPrefix("p-") {
            // The paragraph of this recipient: its reply, then "What this means: <sentence>".
            let paragraph = dsn.components(separatedBy: "<\(local)@codes.test>:").dropFirst().first?
                .components(separatedBy: "\n\n").first ?? ""
            #expect(paragraph.contains("What this means: ") && paragraph.contains(words), "\(local): \(words)\n\(paragraph)")
        }

        // apus queue show: the deferred recipients, each with a diagnosis line.
        let configDir = harness.root + "/config"
        try FileManager.default.createDirectory(atPath: configDir, withIntermediateDirectories: true)
        try "hostname = \"mx.local.test\"\ndata_dir = \"\(harness.root)\"\n"
            .write(toFile: configDir + "/apus.toml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerDeliveryTests.apusBinary)
        process.arguments = ["queue", "show", id, "--config", configDir]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(Self.answers.filter { $0.0.hasPrefix("t-") }.count >= 10)
        for (local, _, words) in Self.answers where local.hasPrefix("t-") {
            let at = try #require(lines.firstIndex { $0.hasPrefix("to: <\(local)@codes.test> pending") }, "\(text)")
            #expect(lines[at + 1].hasPrefix("  diagnosis: ") && lines[at + 1].contains(words), "\(lines[at + 1])")
        }
        await harness.stop()
        await mx.stop()
    }
}
