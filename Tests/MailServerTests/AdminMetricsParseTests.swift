import Config
import Foundation
@testable import MailServer
import Testing

/// `/metrics` of a live server read by the reference Prometheus text parser (`prometheus_client` from PyPI,
/// installed by scripts/test), not by our own reading of the format.
struct AdminMetricsParseTests {
    /// One sample as the parser sees it.
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    @Test func prometheusClientParsesMetricsOfALiveServer() async throws {
        let server = try await TestServer(configure: {
            $0.listen.admin = [ListenAddress(host: "127.0.0.1", port: 0)]
            $0.listen.api = [ListenAddress(host: "127.0.0.1", port: 0)]
            $0.api.tls = false
        })
        do {
            let port = try #require(await server.server.adminAddresses().first?.port)
            let api = try #require(await server.server.apiAddresses().first?.port)
            // Two API requests by curl: no key (401) on a route, and a path no route has (404).
            #expect(try AdminServerTests.realClientGet("http://127.0.0.1:\(api)/v1/events").status == 401)
            #expect(try AdminServerTests.realClientGet("http://127.0.0.1:\(api)/v1/nothing/here").status == 404)
            let client = try await TestClient(port: server.ports[.mx]!)
            for (send, expect) in [(nil, "220 "), ("EHLO client.test", "250 "), ("MAIL FROM:<a@sender.test>", "250 "),
                                   ("RCPT TO:<dev@example.test>", "250 "), ("DATA", "354 "),
                                   ("Subject: hi\r\n\r\nhello\r\n.", "250 "), ("QUIT", "221 ")] {
                if let send { try await client.send(Array((send + "\r\n").utf8)) }
                var line = try await client.readLine()
                while let l = line, l.count > 3, l[l.index(l.startIndex, offsetBy: 3)] == "-" { line = try await client.readLine() }
                #expect(line?.hasPrefix(expect) == true, "after \(send ?? "connect"): \(line ?? "closed")")
            }
            await client.close()
            // The queued and delivered events reach the store (and apus_events_total) in a batch.
            var text = ""
            for _ in 0..<150 {
                await server.server.flushEvents()
                text = try await AdminServerTests.get(port: port, "/metrics").body
                if AdminServerTests.samples(text)[#"apus_events_total{type="delivered"}"#] == 1 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let (types, samples) = try Self.parse(text)
            #expect(types["apus_messages_accepted"] == "counter")   // the parser drops _total from family names
            #expect(types["apus_connections_open"] == "gauge")
            #expect(types["apus_accept_duration_seconds"] == "histogram")
            #expect(types["apus_events"] == "counter")
            func value(_ name: String, _ labels: [String: String]) -> Double? {
                samples.first { $0.name == name && $0.labels == labels }?.value
            }
            #expect(value("apus_messages_accepted_total", ["listener": "mx"]) == 1)
            #expect(value("apus_messages_accepted_total", ["listener": "submission"]) == 0)
            #expect(value("apus_build_info", ["version": ServerMetrics.defaultVersion]) == 1)
            #expect(value("apus_accept_duration_seconds_count", ["listener": "mx"]) == 1)
            #expect(value("apus_accept_duration_seconds_bucket", ["listener": "mx", "le": "+Inf"]) == 1)
            #expect(value("apus_accept_duration_seconds_count", ["listener": "api"]) == 0)
            #expect((value("apus_accept_duration_seconds_sum", ["listener": "mx"]) ?? 0) > 0)
            #expect(value("apus_events_total", ["type": "queued"]) == 1)
            #expect(value("apus_events_total", ["type": "delivered"]) == 1)
            #expect(value("apus_events_total", ["type": "bounced"]) == 0)
            #expect(value("apus_webhook_deliveries_total", ["result": "failed"]) == 0)
            #expect(value("apus_deliveries_total", ["result": "sent", "kind": "local"]) == 1)
            #expect(types["apus_api_request_duration_seconds"] == "histogram")
            #expect(value("apus_api_requests_total", ["route": "/v1/events", "status": "401"]) == 1)
            #expect(value("apus_api_requests_total", ["route": "unmatched", "status": "404"]) == 1)
            #expect(value("apus_api_request_duration_seconds_count", ["route": "/v1/events"]) == 1)
            #expect(samples.filter { $0.name == "apus_api_requests_total" }.count == 2, "\(samples.filter { $0.name.hasPrefix("apus_api") })")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Family types and samples, from `prometheus_client.parser.text_string_to_metric_families`.
    static func parse(_ text: String) throws -> (types: [String: String], samples: [Sample]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            types, samples = {}, []
            for family in text_string_to_metric_families(sys.stdin.read()):
                types[family.name] = family.type
                samples += [[s.name, s.labels, s.value] for s in family.samples]
            json.dump({"types": types, "samples": samples}, sys.stdout)
            """]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        (process.standardInput, process.standardOutput, process.standardError) = (input, output, errors)
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let types = json["types"] as? [String: String], let rows = json["samples"] as? [[Any]] else {
            throw TranscriptError("prometheus_client could not parse /metrics: \(message)\n\(text)")
        }
        let samples = rows.compactMap { row -> Sample? in
            guard row.count == 3, let name = row[0] as? String, let labels = row[1] as? [String: String],
                  let value = (row[2] as? NSNumber)?.doubleValue else { return nil }
            return Sample(name: name, labels: labels, value: value)
        }
        return (types, samples)
    }
}
