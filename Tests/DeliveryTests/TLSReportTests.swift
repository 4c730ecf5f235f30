import Delivery
import DNSCore
import MailQueue
import Foundation
import Logging
import MailStore
import NIOCore
import Testing

/// TLS-RPT (RFC 8460) without a network: the report JSON against the RFC's §4.4 example structure
/// (checked by Python's json and gzip too), aggregation of counters, the `_smtp._tls` record, the result
/// types of handshake errors, the §5.3 message, and the counters' round trip through the SQLite store.
struct TLSReportTests {
    static let sts = TLSReportPolicy(kind: .sts, strings: ["version: STSv1", "mode: testing", "mx: *.mail.company-y.example", "max_age: 86400"],
                                     mxHosts: ["*.mail.company-y.example"])

    static func row(_ type: String = "", count: Int, mx: String = "", ip: String = "", source: String = "",
                    policy: TLSReportPolicy = sts, domain: String = "company-y.example") -> TLSResultRow {
        TLSResultRow(day: "2016-04-01", policyDomain: domain, policyType: policy.kind.rawValue, policyStrings: policy.strings,
                     mxHosts: policy.mxHosts, resultType: type, sendingIP: source, receivingMX: mx, receivingIP: ip, count: count)
    }

    /// The numbers of the RFC's example: 5326 successes; 100 certificate-expired and 200 starttls-not-supported
    /// failures, and 3 validation failures in two rows for the same host (which add up).
    static let rows: [TLSResultRow] = [
        row(count: 5000),
        row("certificate-expired", count: 100, mx: "mx1.mail.company-y.example", ip: "203.0.113.56", source: "2001:db8:abcd:0012::1"),
        row(count: 326),
        row("starttls-not-supported", count: 200, mx: "mx2.mail.company-y.example", ip: "203.0.113.57", source: "2001:db8:abcd:0013::1"),
        row("validation-failure", count: 1, mx: "mx3.mail.company-y.example", ip: "198.51.100.62", source: "198.51.100.1"),
        row("validation-failure", count: 2, mx: "mx3.mail.company-y.example", ip: "198.51.100.62", source: "198.51.100.1"),
    ]

    static func report(_ rows: [TLSResultRow] = rows) -> TLSReport {
        TLSReport(rows: rows, organization: "Company-X", contact: "sts-reporting@company-x.example",
                  reportID: "5065427c-23d3-47ca-b6e0-946ea0e8c4be", day: "2016-04-01")
    }

    @Test func aggregatesPerPolicy() {
        let r = Self.report()
        #expect(r.policies.count == 1)
        let p = r.policies[0]
        #expect(p.summary.successful == 5326)
        #expect(p.summary.failed == 303)
        #expect(p.failureDetails.map(\.resultType) == ["certificate-expired", "starttls-not-supported", "validation-failure"])
        #expect(p.failureDetails.map(\.count) == [100, 200, 3])
        #expect(p.policy.strings?.count == 4)
        #expect(p.policy.mxHosts == ["*.mail.company-y.example"])
    }

    @Test func separatePoliciesStaySeparate() {
        let none = Self.row(count: 7, policy: .noPolicy)
        let r = Self.report(Self.rows + [none, Self.row("starttls-not-supported", count: 1, mx: "mx9.example", ip: "192.0.2.9", policy: .noPolicy)])
        #expect(r.policies.count == 2)
        #expect(r.policies[1].policy.type == "no-policy-found")
        #expect(r.policies[1].policy.strings == nil)
        #expect(r.policies[1].summary.successful == 7)
        #expect(r.policies[1].summary.failed == 1)
    }

    /// The JSON read back by Python: every key of the RFC's §4.4 example where it should be, with the counts.
    @Test func jsonMatchesTheRFCStructure() throws {
        let dir = NSTemporaryDirectory() + "apus-tlsrpt-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let message = TLSReportMessage(report: Self.report(), policyDomain: "company-y.example", submitter: "mx.company-x.example",
                                       from: "noreply-tlsrpt@company-x.example", to: "tlsrpt@company-y.example",
                                       begin: Date(timeIntervalSince1970: 1_459_468_800), end: Date(timeIntervalSince1970: 1_459_555_199),
                                       date: Date(timeIntervalSince1970: 1_459_560_000), uniqueID: "0000000100000002")
        #expect(message.filename == "mx.company-x.example!company-y.example!1459468800!1459555199!0000000100000002.json.gz")
        try Data(message.gzip).write(to: URL(fileURLWithPath: dir + "/r.json.gz"))
        let script = """
            import gzip, json, sys
            r = json.loads(gzip.open(sys.argv[1]).read())
            assert set(r) == {"organization-name", "date-range", "contact-info", "report-id", "policies"}, sorted(r)
            assert r["date-range"] == {"start-datetime": "2016-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z"}
            p = r["policies"][0]
            assert set(p["policy"]) == {"policy-type", "policy-string", "policy-domain", "mx-host"}
            assert p["policy"]["policy-type"] == "sts" and p["policy"]["policy-domain"] == "company-y.example"
            assert p["summary"] == {"total-successful-session-count": 5326, "total-failure-session-count": 303}
            d = {x["result-type"]: x for x in p["failure-details"]}
            assert d["certificate-expired"] == {"result-type": "certificate-expired", "sending-mta-ip": "2001:db8:abcd:0012::1",
                "receiving-mx-hostname": "mx1.mail.company-y.example", "receiving-ip": "203.0.113.56", "failed-session-count": 100}, d
            assert d["validation-failure"]["failed-session-count"] == 3
            print("ok")
            """
        let out = try Self.python(script, dir + "/r.json.gz")
        #expect(out == "ok\n")
    }

    @Test(arguments: [0, 1, 65_535, 65_536, 200_000])
    func gzipIsReadableByPython(size: Int) throws {
        let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let dir = NSTemporaryDirectory() + "apus-gzip-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(Gzip.wrap(data)).write(to: URL(fileURLWithPath: dir + "/x.gz"))
        try Data(data).write(to: URL(fileURLWithPath: dir + "/x"))
        let out = try Self.python("import gzip,sys\nprint(gzip.open(sys.argv[1]).read() == open(sys.argv[2],'rb').read())",
                                  dir + "/x.gz", dir + "/x")
        #expect(out == "True\n")
    }

    @Test func messageHasTheHeadersOfSection53() {
        let message = TLSReportMessage(report: Self.report(), policyDomain: "company-y.example", submitter: "mx.company-x.example",
                                       from: "noreply-tlsrpt@company-x.example", to: "tlsrpt@company-y.example",
                                       begin: Date(timeIntervalSince1970: 0), end: Date(timeIntervalSince1970: 86_399),
                                       date: Date(timeIntervalSince1970: 90_000), uniqueID: "00000001000000aa")
        let text = String(decoding: message.rendered, as: UTF8.self)
        for expected in ["TLS-Report-Domain: company-y.example\r\n", "TLS-Report-Submitter: mx.company-x.example\r\n",
                         "Content-Type: multipart/report; report-type=\"tlsrpt\";", "Content-Type: application/tlsrpt+gzip\r\n",
                         "Content-Type: text/plain", "TLS-Required: No\r\n",
                         "Subject: Report Domain: company-y.example Submitter: mx.company-x.example Report-ID: <"] {
            #expect(text.contains(expected), "missing \(expected)")
        }
        let fields = TLSHeaderFields(ByteBuffer(bytes: message.rendered))
        #expect(fields.isTLSReport && fields.tlsRequiredNo)
    }

    static let records: [([String], TLSRPTRecord?)] = [
        (["v=TLSRPTv1; rua=mailto:reports@example.net"], TLSRPTRecord(mailto: ["reports@example.net"], https: [])),
        (["v=TLSRPTv1;rua=mailto:a@example.net,https://r.example.net/tlsrpt"], TLSRPTRecord(mailto: ["a@example.net"], https: ["https://r.example.net/tlsrpt"])),
        (["v=TLSRPTv1; rua=mailto:a%2Cb@example.net"], TLSRPTRecord(mailto: ["a,b@example.net"], https: [])),
        (["v=spf1 -all", "v=TLSRPTv1; rua=mailto:x@example.net"], TLSRPTRecord(mailto: ["x@example.net"], https: [])),
        (["v=TLSRPTv1; rua=mailto:x@example.net", "v=TLSRPTv1; rua=mailto:y@example.net"], nil),   // §3: two records = none
        (["v=TLSRPTv2; rua=mailto:x@example.net"], nil),
        (["v=TLSRPTv1;"], nil),
        (["v=TLSRPTv1; rua=ftp://x.example.net"], nil),
        ([], nil),
    ]

    @Test(arguments: records)
    func record(_ texts: [String], _ expected: TLSRPTRecord?) {
        #expect(TLSRPTRecord.find(in: texts) == expected)
    }

    static let handshakeErrors: [(String, TLSResultType)] = [
        ("handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED]))", .certificateNotTrusted),
        ("unableToValidateCertificate / failedToValidateHostname", .certificateHostMismatch),
        ("certificate has expired", .certificateExpired),
        ("connection reset by peer", .validationFailure),
    ]

    @Test(arguments: handshakeErrors)
    func classify(_ text: String, _ expected: TLSResultType) {
        #expect(TLSResultType.classify(handshakeError: text) == expected)
    }

    static let headers: [(String, Bool, Bool)] = [
        ("Subject: x\r\nTLS-Required: No\r\n\r\nbody\r\n", true, false),
        ("tls-required:   no  \r\n\r\n", true, false),
        ("TLS-Required:\r\n No\r\n\r\n", true, false),                 // folded
        ("Subject: x\r\n\r\nTLS-Required: No\r\n", false, false),        // in the body: not a header field
        ("TLS-Required: Yes\r\n\r\n", false, false),
        ("TLS-Report-Domain: example.net\r\n\r\n", false, true),
        ("TLS-Required : No\nX-Other: y\n\n", true, false),                // bare LF, space before the colon
        ("X-TLS-Required: No\r\nTLS-Requiredx: No\r\n\r\n", false, false),  // other names
        ("TLS-Required: No, really\r\n\r\n", false, false),
        ("Subject: a\r\n TLS-Required: No\r\n\r\n", false, false),      // a continuation of Subject
        ("TLS-Required: No", true, false),                                   // no end of line at all
        ("TLS\u{0D}Required: No\r\n\r\n", false, false),
    ]

    @Test(arguments: headers)
    func headerFields(_ text: String, _ no: Bool, _ report: Bool) {
        let f = TLSHeaderFields(ByteBuffer(string: text))
        #expect(f.tlsRequiredNo == no)
        #expect(f.isTLSReport == report)
    }

    @Test func requireTLSWinsOverTheHeaderField() {
        let o = DeliveryOptions(requireTLS: true, message: ByteBuffer(string: "TLS-Required: No\r\n\r\n"))
        #expect(o.requireTLS && !o.tlsOptional)
    }

    /// Counters through the recorder into a real SQLite store: same key adds up, flush empties the memory.
    @Test func recorderFlushesIntoTheStore() async throws {
        let dir = NSTemporaryDirectory() + "apus-tlsstore-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteMailStore(path: dir + "/apus.sqlite")
        let day = Date(timeIntervalSince1970: 1_459_468_800 + 3600)
        let recorder = TLSReportRecorder(store: store, clock: { day }, logger: Logger(label: "test"))
        for _ in 0..<3 { await recorder.record(domain: "Company-Y.example", policy: Self.sts, failure: nil, sendingIP: "192.0.2.1", mx: "mx1", ip: "203.0.113.1") }
        await recorder.record(domain: "company-y.example", policy: Self.sts, failure: .starttlsNotSupported, sendingIP: "192.0.2.1", mx: "mx1", ip: "203.0.113.1")
        await recorder.flush()
        await recorder.record(domain: "company-y.example", policy: Self.sts, failure: .starttlsNotSupported, sendingIP: "192.0.2.1", mx: "mx1", ip: "203.0.113.1")
        await recorder.flush()
        #expect(await recorder.unflushed().isEmpty)
        let rows = try await store.tlsResults(through: "2016-04-01")
        #expect(rows.count == 2)
        #expect(rows.first { $0.isSuccess }?.count == 3)
        #expect(rows.first { !$0.isSuccess }?.count == 2)
        #expect(rows.first { !$0.isSuccess }?.receivingMX == "mx1")
        #expect(rows.allSatisfy { $0.policyDomain == "company-y.example" && $0.policyStrings == Self.sts.strings })
        #expect(try await store.tlsResults(through: "2016-03-31").isEmpty)
        try await store.removeTLSResults(day: "2016-04-01", policyDomain: "company-y.example")
        #expect(try await store.tlsResults(through: "2016-04-01").isEmpty)
    }

    static func python(_ script: String, _ args: String...) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", script] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// The report run without a network: mailto and https endpoints from a `StaticResolver`, the spool in memory,
/// the POST recorded; a SERVFAIL keeps the counters for the next run, a domain without a record loses them.
struct TLSReportSenderTests {
    final class Posts: @unchecked Sendable {
        let lock = NSLock()
        var items: [(String, [UInt8])] = []
        func add(_ url: String, _ gzip: [UInt8]) { lock.lock(); items.append((url, gzip)); lock.unlock() }
        var all: [(String, [UInt8])] { lock.lock(); defer { lock.unlock() }; return items }
    }

    @Test func mailtoHttpsNoRecordAndDNSFailure() async throws {
        let dir = NSTemporaryDirectory() + "apus-tlssend-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteMailStore(path: dir + "/apus.sqlite")
        var dns = StaticResolver()
        dns.addTXT("_smtp._tls.both.example", "v=TLSRPTv1; rua=mailto:a@rpt.example,https://rpt.example/v1")
        dns.fail("_smtp._tls.broken.example", .txt, with: .serverFailure)
        let day = Date(timeIntervalSince1970: 1_459_468_800 + 7200)
        let recorder = TLSReportRecorder(store: store, clock: { day }, logger: Logger(label: "test"))
        for domain in ["both.example", "broken.example", "silent.example"] {
            await recorder.record(domain: domain, policy: .noPolicy, failure: nil, sendingIP: nil, mx: "mx", ip: "192.0.2.1")
        }
        let spool = MemorySpool()
        let posts = Posts()
        let sender = TLSReportSender(
            settings: .init(hostname: "mx.sender.example", fromAddress: "noreply-tlsrpt@sender.example", contact: "postmaster@sender.example"),
            recorder: recorder, store: store, dns: dns, spool: spool, router: Router(isLocalDomain: { _ in false }),
            post: { url, gzip in posts.add(url, gzip); return nil }, clock: { day.addingTimeInterval(86_400) },
            logger: Logger(label: "test"))
        let ids = await sender.send(through: "2016-04-01")
        #expect(ids.count == 1)
        let queued = try await spool.list()
        #expect(queued.map(\.mailFrom) == [""])
        #expect(queued.first?.recipients.map(\.address) == ["a@rpt.example"])
        #expect(queued.first?.recipients.first?.route == .remote)
        #expect(posts.all.map(\.0) == ["https://rpt.example/v1"])
        let json = try JSONSerialization.jsonObject(with: Data(try TLSReportTests.gunzip(posts.all[0].1))) as? [String: Any]
        let policies = try #require(json?["policies"] as? [[String: Any]])
        #expect((policies.first?["policy"] as? [String: Any])?["policy-domain"] as? String == "both.example")
        #expect(json?["date-range"] as? [String: String] == ["start-datetime": "2016-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z"])
        // broken.example waits for the next run; silent.example (no record) and both.example are done.
        #expect(try await store.tlsResults(through: "2016-04-01").map(\.policyDomain) == ["broken.example"])
    }
}

extension TLSReportTests {
    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let dir = NSTemporaryDirectory() + "apus-gunzip-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/x.gz"))
        return Array(try python("import gzip,sys\nsys.stdout.write(gzip.open(sys.argv[1]).read().decode())", dir + "/x.gz").utf8)
    }
}
