import Delivery
import DNSCore
import Foundation
import MailQueue
import Testing

/// A fake MX answering the receivers' published codes: the sentence of each shows in `apus queue show`
/// (deferrals, still queued) and in the DSN's text (refusals).
@Suite struct DiagnosisDeliveryTests {
    /// Local part → the MX's reply to RCPT, and the words the diagnosis must contain.
    static let answers: [(String, String, String)] = [
        ("t-ptr", "421 4.7.23 The sending IP address for this message doesn't have a PTR record. gsmtp", "requires a PTR record"),
        ("t-rate", "421 4.7.28 Gmail has detected an unusual rate of mail. gsmtp", "unusual rate of mail"),
        ("t-ms", "451 4.7.650 The mail server has been temporarily rate limited due to IP reputation", "Microsoft rate-limits"),
        ("t-yahoo", "421 4.7.0 [TSS04] Messages temporarily deferred due to unexpected volume", "Yahoo defers mail"),
        ("p-auth", "550 5.7.26 This mail is unauthenticated. gsmtp", "passed neither SPF nor DKIM"),
        ("p-ms", "550 5.7.515 Access denied, sending domain doesn't meet the required authentication level", "Outlook.com requires SPF, DKIM and DMARC"),
        ("p-yahoo", "554 5.7.9 Message not accepted for policy reasons [PH01]", "Yahoo refused the message"),
        ("p-user", "550 5.1.1 no such user", "mailbox does not exist"),
    ]

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
        let dsn = try #require(harness.maildir("sender").first)
        for (local, _, words) in Self.answers where local.hasPrefix("p-") {
            #expect(dsn.contains("<\(local)@codes.test>"))
            #expect(dsn.contains("What this means: ") && dsn.contains(words), "\(local): \(words)")
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
        for (local, _, words) in Self.answers where local.hasPrefix("t-") {
            let at = try #require(lines.firstIndex { $0.hasPrefix("to: <\(local)@codes.test> pending") }, "\(text)")
            #expect(lines[at + 1].hasPrefix("  diagnosis: ") && lines[at + 1].contains(words), "\(lines[at + 1])")
        }
        await harness.stop()
        await mx.stop()
    }
}
