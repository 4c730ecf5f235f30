import Config
import Delivery
import DNSCore
import Foundation
import Logging
@testable import MailServer
import NIOCore
import SMTPProtocol
import Testing

/// The admin HTTP listener (`[listen] admin`): /healthz, /metrics, and the limits that keep it from
/// being a way to tie the server up.
struct AdminServerTests {
    // MARK: Against a live MailServer

    @Test func healthAndMetricsOfALiveServer() async throws {
        let server = try await TestServer(configure: { $0.listen.admin = [ListenAddress(host: "127.0.0.1", port: 0)] })
        do {
            let port = try #require(await server.server.adminAddresses().first?.port)

            // A real HTTP client: curl when installed, else Python's urllib.
            let health = try Self.realClientGet("http://127.0.0.1:\(port)/healthz")
            #expect(health.status == 200 && health.body == "ok\n")

            // One message on the mx listener, after one refused recipient (a 5xx reply).
            let client = try await TestClient(port: server.ports[.mx]!)
            for (send, expect) in [(nil, "220 "), ("EHLO client.test", "250 "), ("MAIL FROM:<a@sender.test>", "250 "),
                                   ("RCPT TO:<nobody@example.test>", "550 "), ("RCPT TO:<dev@example.test>", "250 "),
                                   ("DATA", "354 "), ("Subject: hi\r\n\r\nhello\r\n.", "250 "), ("QUIT", "221 ")] {
                if let send { try await client.send(Array((send + "\r\n").utf8)) }
                var line = try await client.readLine()
                while let l = line, l.count > 3, l[l.index(l.startIndex, offsetBy: 3)] == "-" { line = try await client.readLine() }
                #expect(line?.hasPrefix(expect) == true, "after \(send ?? "connect"): \(line ?? "closed")")
            }
            await client.close()
            for _ in 0..<200 where server.maildirCount() < 1 { try await Task.sleep(for: .milliseconds(20)) }

            let metrics = try await Self.get(port: port, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            let samples = Self.samples(metrics.body)
            #expect(samples[#"apus_messages_accepted_total{listener="mx"}"#] == 1)
            #expect((samples[#"apus_connections_total{listener="mx"}"#] ?? 0) >= 1)
            #expect(samples[#"apus_smtp_replies_total{listener="mx",class="5xx"}"#] == 1)
            #expect(samples[#"apus_messages_accepted_total{listener="submission"}"#] == 0)
            // The runner counts the delivery after the Maildir write and removes the queue files after that.
            for _ in 0..<100 {
                let now = Self.samples(try await Self.get(port: port, "/metrics").body)
                if now[#"apus_deliveries_total{result="sent",kind="local"}"#] == 1 && now["apus_queue_messages"] == 0 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let after = Self.samples(try await Self.get(port: port, "/metrics").body)
            #expect(after[#"apus_deliveries_total{result="sent",kind="local"}"#] == 1)
            #expect(after[#"apus_deliveries_total{result="bounced",kind="remote"}"#] == 0)
            #expect(after["apus_queue_messages"] == 0)
            #expect(after[#"apus_build_info{version="\#(ServerMetrics.defaultVersion)"}"#] == 1)

            // A wrong password on port 465: counted behind TLS, as an AUTH failure and a 5xx reply.
            let tls = try await TestClient(port: server.ports[.submissions]!, implicitTLS: true)
            _ = try await tls.readLine()
            try await tls.send(Array("EHLO c\r\n".utf8))
            while let line = try await tls.readLine(), line.hasPrefix("250-") {}
            try await tls.send(Array("AUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAd3Jvbmc=\r\n".utf8))
            #expect(try await tls.readLine()?.hasPrefix("535 ") == true)
            await tls.close()
            let auth = Self.samples(try await Self.get(port: port, "/metrics").body)
            #expect(auth[#"apus_auth_failures_total{listener="submissions"}"#] == 1)
            #expect(auth[#"apus_smtp_replies_total{listener="submissions",class="5xx"}"#] == 1)

            let missing = try await Self.get(port: port, "/nope")
            #expect(missing.status == 404)
            let post = try await Self.get(port: port, "/metrics", method: "POST")
            #expect(post.status == 405 && post.headers["allow"] == "GET")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Remote outcomes reach /metrics through the queue runner's observer: NXDOMAIN bounces at once,
    /// SERVFAIL defers; the DSN to the local sender is a local delivery; the deferred message stays queued.
    @Test func deliveryOutcomesAreCounted() async throws {
        var dns = StaticResolver()
        dns.fail("broken.test", .mx, with: .serverFailure)
        let server = try await TestServer(resolver: dns, configure: {
            $0.listen.admin = [ListenAddress(host: "127.0.0.1", port: 0)]
            $0.delivery.holdRemote = false
        })
        do {
            let port = try #require(await server.server.adminAddresses().first?.port)
            let client = try await TestClient(port: server.ports[.submissions]!, implicitTLS: true)
            _ = try await client.readLine()
            try await client.send(Array("EHLO c\r\n".utf8))
            while let line = try await client.readLine(), line.hasPrefix("250-") {}
            for (send, expect) in [("AUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAc2VjcmV0", "235 "), ("MAIL FROM:<dev@example.test>", "250 "),
                                   ("RCPT TO:<x@nowhere.test>", "250 "), ("RCPT TO:<y@broken.test>", "250 "), ("DATA", "354 "),
                                   ("Subject: hi\r\n\r\nhello\r\n.", "250 ")] {
                try await client.send(Array((send + "\r\n").utf8))
                #expect(try await client.readLine()?.hasPrefix(expect) == true, "after \(send)")
            }
            await client.close()
            let want = [#"apus_deliveries_total{result="bounced",kind="remote"}"#: 1,
                        #"apus_deliveries_total{result="deferred",kind="remote"}"#: 1,
                        #"apus_deliveries_total{result="sent",kind="local"}"#: 1,   // the DSN to dev@example.test
                        #"apus_messages_accepted_total{listener="submissions"}"#: 1,
                        "apus_queue_messages": 1]
            var got: [String: Int] = [:]
            for _ in 0..<150 {
                got = Self.samples(try await Self.get(port: port, "/metrics").body)
                if want.allSatisfy({ got[$0.key] == $0.value }) { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            for (key, value) in want { #expect(got[key] == value, "\(key)") }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    // MARK: The listener on its own

    @Test func healthzSays503WhileShuttingDown() async throws {
        let admin = Self.admin()
        let port = try #require(try await admin.bind().first?.port)
        #expect(try await Self.get(port: port, "/healthz").status == 200)
        admin.beginShutdown()
        let stopping = try await Self.get(port: port, "/healthz")
        #expect(stopping.status == 503 && stopping.body == "shutting down\n")
        await admin.close()
    }

    @Test func listensOnIPv6() async throws {
        let admin = Self.admin(addresses: [ListenAddress(host: "::1", port: 0), ListenAddress(host: "127.0.0.1", port: 0)])
        let addresses = try await admin.bind()
        #expect(addresses.count == 2)
        let v6 = try #require(addresses.first { $0.protocol == .inet6 }?.port)
        #expect(try await Self.get(port: v6, "/healthz", host: "::1").body == "ok\n")
        await admin.close()
    }

    @Test func aTakenPortIsNamedInTheError() async throws {
        let first = Self.admin()
        let port = try #require(try await first.bind().first?.port)
        let second = Self.admin(addresses: [ListenAddress(host: "127.0.0.1", port: port)])
        do {
            try await second.bind()
            Issue.record("a second listener on port \(port) was bound")
        } catch {
            let text = "\(error)"
            #expect(text.contains("cannot listen for admin on 127.0.0.1:\(port)"), "\(text)")
            #expect(text.contains("change [listen] admin in apus.toml"), "\(text)")
        }
        #expect(second.localAddresses.isEmpty)
        #expect(try await Self.get(port: port, "/healthz").status == 200)   // the first one still answers
        await first.close()
    }

    @Test func oversizedRequestIsClosedWithoutAnswer() async throws {
        let admin = Self.admin()
        let port = try #require(try await admin.bind().first?.port)
        let client = try await TestClient(port: port)
        let big = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: " + String(repeating: "a", count: 10_000) + "\r\n\r\n"
        try? await client.send(Array(big.utf8))
        #expect(try await client.isClosed(within: .seconds(5)))
        await client.close()
        await admin.close()
    }

    @Test func slowRequestIsClosed() async throws {
        var limits = AdminServer.Limits()
        limits.timeout = .milliseconds(500)
        let admin = Self.admin(limits: limits)
        let port = try #require(try await admin.bind().first?.port)
        let client = try await TestClient(port: port)
        // Half a request and never the rest (on a busy machine the deadline may pass even before this send).
        try? await client.send(Array("GET /healthz HTTP/1.1\r\n".utf8))
        #expect(try await client.isClosed(within: .seconds(3)))
        await client.close()
        await admin.close()
    }

    @Test func connectionsBeyondTheLimitAreClosed() async throws {
        var limits = AdminServer.Limits()
        limits.maxConnections = 2
        let admin = Self.admin(limits: limits)
        let port = try #require(try await admin.bind().first?.port)
        let a = try await TestClient(port: port), b = try await TestClient(port: port)
        try await Task.sleep(for: .milliseconds(100))
        let c = try await TestClient(port: port)
        #expect(try await c.isClosed(within: .seconds(3)))
        for client in [a, b, c] { await client.close() }
        // A slot is free again once the server has seen the close.
        var status = 0
        for _ in 0..<50 where status != 200 {
            try await Task.sleep(for: .milliseconds(50))
            status = (try? await Self.get(port: port, "/healthz").status) ?? 0
        }
        #expect(status == 200)
        await admin.close()
    }

    @Test func malformedRequestGets400() async throws {
        let admin = Self.admin()
        let port = try #require(try await admin.bind().first?.port)
        let client = try await TestClient(port: port)
        try await client.send(Array("GARBAGE\r\n\r\n".utf8))
        #expect(try await client.readLine() == "HTTP/1.1 400 Bad Request")
        await client.close()
        await admin.close()
    }

    @Test(arguments: [
        ("GET", "/healthz", AdminRoute.healthz), ("GET", "/metrics", .metrics), ("GET", "/metrics?x=1", .metrics),
        ("POST", "/metrics", .methodNotAllowed), ("HEAD", "/healthz", .methodNotAllowed),
        ("GET", "/", .notFound), ("POST", "/nope", .notFound), ("GET", "/metrics/", .notFound),
    ])
    func routes(_ method: String, _ uri: String, _ expected: AdminRoute) {
        #expect(AdminRoute(method: .init(rawValue: method), uri: uri) == expected)
    }

    // MARK: ServerMetrics

    @Test func renderFollowsTheTextFormat() throws {
        let metrics = ServerMetrics(version: "1.0 \"beta\"\\x\ny")
        for _ in 0..<3 { metrics.messageAccepted(.mx) }
        for _ in 0..<2 { metrics.reply(550, on: .submission) }
        for _ in 0..<4 { metrics.delivery(DeliveryEvent(result: .deferred, kind: .remote)) }
        metrics.setQueueMessages(7)
        metrics.event(type: "delivered")
        metrics.accepted(after: .milliseconds(3), source: "mx")
        let text = metrics.render()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.last == "")   // ends with a line feed
        // Gauges are written as floating-point numbers by swift-prometheus ("1.0"); the format allows both.
        #expect(lines.contains(#"apus_build_info{version="1.0 \"beta\"\\x\ny"} 1.0"#))
        #expect(lines.contains(#"apus_messages_accepted_total{listener="mx"} 3"#))
        #expect(lines.contains(#"apus_messages_accepted_total{listener="submissions"} 0"#))
        #expect(lines.contains(#"apus_smtp_replies_total{listener="submission",class="5xx"} 2"#))
        #expect(lines.contains(#"apus_deliveries_total{result="deferred",kind="remote"} 4"#))
        #expect(lines.contains(#"apus_events_total{type="delivered"} 1"#))
        #expect(lines.contains(#"apus_events_total{type="bounced"} 0"#))
        #expect(lines.contains(#"apus_webhook_deliveries_total{result="failed"} 0"#))
        #expect(lines.contains(#"apus_accept_duration_seconds_bucket{listener="mx",le="0.005"} 1"#))
        #expect(lines.contains(#"apus_accept_duration_seconds_bucket{listener="mx",le="0.0025"} 0"#))
        #expect(lines.contains(#"apus_accept_duration_seconds_count{listener="mx"} 1"#))
        #expect(lines.contains("apus_queue_messages 7.0"))
        #expect(lines.contains("# TYPE apus_connections_open gauge"))
        #expect(lines.contains("# TYPE apus_connections_total counter"))
        #expect(lines.contains("# TYPE apus_accept_duration_seconds histogram"))

        // Every family: HELP, then TYPE, then its samples; names are valid; counters and histogram counts
        // and buckets end in an integer, other samples in a number.
        var family: String?
        var type: String?
        var seen: Set<String> = []
        for (i, line) in lines.dropLast().enumerated() {
            if line.hasPrefix("# HELP ") {
                let name = String(line.dropFirst(7).prefix { $0 != " " })
                #expect(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && name.hasPrefix("apus_"))
                #expect(lines[i + 1].hasPrefix("# TYPE \(name) "), "\(name): TYPE must follow HELP")
                #expect(seen.insert(name).inserted, "\(name) twice")
                family = name
            } else if line.hasPrefix("# TYPE ") {
                type = line.split(separator: " ").last.map(String.init)
                #expect(["counter", "gauge", "histogram"].contains(type))
                #expect(!(type == "counter") || family?.hasSuffix("_total") == true)
            } else {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                let value = line.split(separator: " ").last ?? ""
                if type == "histogram" {
                    #expect([family, family.map { $0 + "_bucket" }, family.map { $0 + "_sum" }, family.map { $0 + "_count" }]
                        .contains(name), "sample \(line) outside its family")
                    #expect(name.hasSuffix("_sum") ? Double(value) != nil : Int(value) != nil, "\(line)")
                } else {
                    #expect(name == family, "sample \(line) outside its family")
                    #expect(type == "counter" ? Int(value) != nil : Double(value) != nil, "\(line)")
                }
            }
        }
        // Without a queue size the gauge is left out rather than reported as 0.
        #expect(!ServerMetrics().render().contains("apus_queue_messages"))
        metrics.setQueueMessages(nil)
        #expect(!metrics.render().contains("apus_queue_messages"))
    }

    @Test func hooksCount() {
        let metrics = ServerMetrics()
        metrics.connectionOpened(.mx)
        metrics.connectionOpened(.mx)
        metrics.connectionClosed(.mx)
        metrics.reply(250, on: .mx)
        metrics.reply(421, on: .mx)
        metrics.authFailed(.submission)
        metrics.webhookDelivery(ok: true)
        metrics.apiRequest(.init(route: "/v1/messages", status: 202, duration: .milliseconds(20)))
        let counts = Self.samples(metrics.render())
        #expect(counts[#"apus_connections_total{listener="mx"}"#] == 2 && counts[#"apus_connections_open{listener="mx"}"#] == 1)
        #expect(counts[#"apus_smtp_replies_total{listener="mx",class="4xx"}"#] == 1)
        #expect(counts.filter { $0.key.hasPrefix("apus_smtp_replies_total") }.values.reduce(0, +) == 1)
        #expect(counts[#"apus_auth_failures_total{listener="submission"}"#] == 1)
        #expect(counts[#"apus_webhook_deliveries_total{result="ok"}"#] == 1)
        #expect(counts[#"apus_api_requests_total{route="/v1/messages",status="202"}"#] == 1)
        #expect(counts[#"apus_api_request_duration_seconds_count{route="/v1/messages"}"#] == 1)
    }

    @Test(arguments: [
        ("250 2.0.0 Ok\r\n", [250]),
        ("250-mx.example.test\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n", [250]),
        ("550 5.1.1 no such user\r\n354 go ahead\r\n", [550, 354]),
        ("", []),
        ("421\r\n", [421]),
    ])
    func replyCodesAreReadFromTheWire(_ wire: String, _ codes: [Int]) {
        #expect(SMTPReplyCounter.finalReplyCodes(ByteBuffer(string: wire).readableBytesView) == codes)
    }

    @Test func queueIsCountedFromTheDirectory() throws {
        let dir = NSTemporaryDirectory() + "apus-admin-queue-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["a.msg", "a.state", "b.msg", ".tmp-1", "c.msg"] {
            _ = FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data())
        }
        #expect(ServerMetrics.countQueuedMessages(in: dir) == 3)
        #expect(ServerMetrics.countQueuedMessages(in: dir, limit: 2) == 2)
        #expect(ServerMetrics.countQueuedMessages(in: dir + "/missing") == nil)
    }

    // MARK: Helpers

    static func admin(addresses: [ListenAddress] = [ListenAddress(host: "127.0.0.1", port: 0)],
                      limits: AdminServer.Limits = .init()) -> AdminServer {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["APUS_TEST_LOG"] != nil ? .debug : .critical
        return AdminServer(addresses: addresses, metrics: ServerMetrics(), queueMessages: { 0 }, limits: limits, logger: logger)
    }

    struct Response {
        var status: Int
        var headers: [String: String]   // names in lower case
        var body: String
    }

    /// One request over a raw socket; the server answers and closes.
    static func get(port: Int, _ path: String, method: String = "GET", host: String = "127.0.0.1") async throws -> Response {
        let client = try await TestClient(port: port, host: host)
        defer { Task { await client.close() } }
        try await client.send(Array("\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n".utf8))
        let bytes: [UInt8]
        do { bytes = try await client.readUntilClosed() } catch { throw TranscriptError("no answer to \(method) \(path)") }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw TranscriptError("no HTTP head in \(text)") }
        let headLines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        var headers: [String: String] = [:]
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let status = Int(headLines[0].split(separator: " ")[1]) ?? 0
        let body = String(text[split.upperBound...])
        #expect(headers["content-length"] == String(body.utf8.count))
        return Response(status: status, headers: headers, body: body)
    }

    /// `/usr/bin/curl` when installed, else Python 3's urllib: a client that is not ours.
    static func realClientGet(_ url: String) throws -> (status: Int, body: String) {
        let process = Process()
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["-s", "-S", "--max-time", "10", "-w", "\n%{http_code}", url]
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", """
                import sys, urllib.request, urllib.error
                try:
                    r = urllib.request.urlopen(sys.argv[1], timeout=10); body, code = r.read(), r.status
                except urllib.error.HTTPError as e:
                    body, code = e.read(), e.code
                sys.stdout.write(body.decode() + "\\n" + str(code))
                """, url]
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let newline = output.lastIndex(of: "\n"), let status = Int(output[output.index(after: newline)...]) else {
            throw TranscriptError("\(process.executableURL!.path) printed \(output)")
        }
        return (status, String(output[..<newline]))
    }

    /// `name{labels} value` lines with a whole-number value as a dictionary (gauges are written "1.0").
    static func samples(_ text: String) -> [String: Int] {
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let number = Double(line[line.index(after: space)...]),
                  let value = Int(exactly: number) else { continue }
            out[String(line[..<space])] = value
        }
        return out
    }
}
