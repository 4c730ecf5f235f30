import Config
import DKIM
import Directory
import Foundation
import MailServer
import MailStore
import ServiceLifecycle
import Testing

/// The HTTP send API against a live `MailServer` on loopback (DESIGN §3c): curl as the client, a fake MX
/// behind dnsmasq as the destination, dkimpy and Python's `email` package to check what arrives, and a
/// Python webhook receiver that checks every signature.
@Suite(.serialized) struct APIEndToEndTests {
    final class Setup {
        let root: String
        let configDir: String
        let dnsmasq: Dnsmasq
        let mx: FakeMX
        let key: String
        let limitedKey: String
        let otherKey: String
        let dkimTXT: String
        let receiver: APITestSupport.WebhookReceiver
        var server: MailServer!
        var group: ServiceGroup!
        var task: Task<Void, any Error>!
        var base = ""

        init() async throws {
            dnsmasq = try await Dnsmasq.start(["--mx-host=dest.test,mx1.dest.test,10", "--host-record=mx1.dest.test,127.0.0.2"])
            mx = try await FakeMX.start(ip: "127.0.0.2", port: 0)
            mx.setBehavior { behavior in
                behavior.rcpt = { address in
                    if address.hasPrefix("policy") { return "550 5.7.1 <\(address)>: message refused by local policy" }
                    return FakeMX.defaultRcpt(address)
                }
            }
            root = NSTemporaryDirectory() + "apus-api-" + UUID().uuidString
            configDir = try ServerDeliveryTests.writeConfig(root: root, dns: dnsmasq, mxPort: mx.port)
            let signing = try DKIMSigningKey.generate(.ed25519, domain: "local.test", selector: "s1")
            _ = try DKIMKeyStore.write(signing, configDirectory: configDir)
            dkimTXT = signing.txtRecord
            let now = Date()
            let main = APIKeySecret.generate(domain: "local.test", name: "app", senders: [], dailyLimit: nil, now: now)
            let limited = APIKeySecret.generate(domain: "local.test", name: "limited", senders: ["news@local.test"], dailyLimit: 1, now: now)
            try FileManager.default.createDirectory(atPath: configDir + "/domains/other.test", withIntermediateDirectories: true)
            let other = APIKeySecret.generate(domain: "other.test", name: "other", senders: [], dailyLimit: nil, now: now)
            try APIKeysFile.render([main.key, limited.key]).write(toFile: configDir + "/domains/local.test/api-keys", atomically: true, encoding: .utf8)
            try APIKeysFile.render([other.key]).write(toFile: configDir + "/domains/other.test/api-keys", atomically: true, encoding: .utf8)
            (key, limitedKey, otherKey) = (main.secret, limited.secret, other.secret)
            receiver = try APITestSupport.WebhookReceiver(secret: "hook-secret")
            try "  hook-secret\n".write(toFile: configDir + "/webhook.secret", atomically: true, encoding: .utf8)
            var config = try ApusConfig.load(configDirectory: configDir)
            config.listen.api = [ListenAddress(host: "127.0.0.1", port: 0)]
            config.api.tls = false
            config.api.publicURL = "https://mx.local.test"
            config.limits.maxMessageBytes = 200_000
            config.webhooks = [ApusConfig.Webhook(url: "http://127.0.0.1:\(receiver.port)/hook", events: [], secretFile: "webhook.secret")]
            try config.render().write(toFile: configDir + "/apus.toml", atomically: true, encoding: .utf8)
            try await start()
        }

        func start() async throws {
            server = try MailServer(config: try ApusConfig.load(configDirectory: configDir), configDirectory: configDir,
                                    logger: DeliveryHarness.logger)
            group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: DeliveryHarness.logger))
            let group = self.group!
            task = Task { try await group.run() }
            let port = try #require(await server.apiAddresses().first?.port)
            base = "http://127.0.0.1:\(port)"
        }

        func stop() async {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
        }

        func finish() async {
            await stop()
            await mx.stop()
            dnsmasq.stop()
            receiver.stop()
            try? FileManager.default.removeItem(atPath: root)
        }

        func send(_ json: String, key: String? = nil, headers: [String] = []) throws -> APITestSupport.HTTPResult {
            try APITestSupport.curl("POST", base + "/v1/messages", key: key ?? self.key, headers: headers, body: json)
        }

        func events(_ id: String) async throws -> [String] {
            await server.flushEvents()
            let result = try APITestSupport.curl("GET", base + "/v1/messages/\(id)", key: key)
            let recipients = result.json["recipients"] as? [[String: Any]] ?? []
            return recipients.flatMap { ($0["events"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String } }
        }

        func status(_ id: String) throws -> [String] {
            let result = try APITestSupport.curl("GET", base + "/v1/messages/\(id)", key: key)
            return (result.json["recipients"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }
        }
    }

    @Test func sendsBuildsSignsAndRecordsEverything() async throws {
        let s = try await Setup()
        do {
            // Text + HTML + an 8-bit attachment with a non-ASCII name, non-ASCII subject and display name.
            let attachment = Data((0..<600).map { UInt8($0 % 256) }).base64EncodedString()
            let body = """
                {"from":"Zoë App <app@local.test>","to":["ok1@dest.test"],"subject":"Grüße — order #42",
                 "text":"Hello Zoë,\\nyour order shipped.","html":"<p>Hello Zoë,<br>your order <b>shipped</b>.</p>",
                 "attachments":[{"filename":"façture.bin","content_type":"application/octet-stream","content_base64":"\(attachment)"}]}
                """
            let sent = try s.send(body)
            #expect(sent.status == 202, "\(sent.body)")
            let id = try #require(sent.json["id"] as? String)
            #expect((sent.json["recipients"] as? [[String: String]]) == [["address": "ok1@dest.test", "status": "queued"]])
            #expect(await DeliveryHarness.waitUntil(10) { s.mx.received.count == 1 })
            let inspected = try APITestSupport.inspect(try #require(s.mx.received.first?.data), dkimTXT: s.dkimTXT)
            #expect(inspected["dkim"] as? Bool == true, "\(inspected)")
            #expect(inspected["subject"] as? String == "Grüße — order #42")
            #expect((inspected["from"] as? String)?.contains("Zoë App") == true)
            let parts = inspected["parts"] as? [[String: Any]] ?? []
            #expect(parts.map { $0["type"] as? String } == ["text/plain", "text/html", "application/octet-stream"])
            #expect((parts.first?["text"] as? String)?.contains("Hello Zoë,\nyour order shipped.") == true)
            #expect(parts.last?["filename"] as? String == "façture.bin")
            #expect(parts.last?["size"] as? Int == 600)
            #expect(await DeliveryHarness.waitUntil(10) { (try? await s.events(id)) == ["queued", "delivered"] })

            // A raw message, with LF line endings, is signed too.
            let raw = Data("From: app@local.test\nTo: ok2@dest.test\nSubject: raw one\n\nraw body\n".utf8).base64EncodedString()
            let rawSent = try s.send(#"{"from":"app@local.test","to":["ok2@dest.test"],"raw_base64":"\#(raw)"}"#)
            #expect(rawSent.status == 202, "\(rawSent.body)")
            #expect(await DeliveryHarness.waitUntil(10) { s.mx.received.count == 2 })
            let rawInspected = try APITestSupport.inspect(try #require(s.mx.received.last?.data), dkimTXT: s.dkimTXT)
            #expect(rawInspected["dkim"] as? Bool == true && rawInspected["subject"] as? String == "raw one")

            // Errors, each with the documented code.
            for (result, status, code) in [
                (try APITestSupport.curl("POST", s.base + "/v1/messages", body: "{}"), 401, "unauthorized"),
                (try s.send(#"{"from":"app@local.test","to":["a@dest.test"],"text":"x"}"#, key: "apus_0000_nope"), 401, "unauthorized"),
                (try s.send(#"{"from":"app@other.test","to":["a@dest.test"],"text":"x"}"#), 403, "forbidden"),
                (try s.send(#"{"from":"app@local.test","to":["a@dest.test"],"text":"x"}"#, key: s.limitedKey), 403, "forbidden"),
                (try s.send(#"{"from":"app@local.test","to":[],"text":"x"}"#), 400, "invalid_request"),
                (try s.send(#"{"from":"app@local.test","to":["not an address"],"text":"x"}"#), 400, "invalid_request"),
                (try s.send(#"{"from":"app@local.test","to":"#), 400, "invalid_request"),
                (try s.send(#"{"from":"app@local.test","to":["a@dest.test"],"text":"\#(String(repeating: "x", count: 250_000))"}"#), 413, "too_large"),
            ] {
                #expect(result.status == status, "\(result.body)")
                let error = result.json["error"] as? [String: Any]
                #expect(error?["code"] as? String == code, "\(result.body)")
                #expect((error?["message"] as? String)?.isEmpty == false)
            }
            // The daily limit: the first message passes, the second gets 429.
            let news = #"{"from":"news@local.test","to":["ok3@dest.test"],"text":"x"}"#
            #expect(try s.send(news, key: s.limitedKey).status == 202)
            let over = try s.send(news, key: s.limitedKey)
            #expect(over.status == 429 && (over.json["error"] as? [String: Any])?["code"] as? String == "quota_exceeded")
            #expect(await DeliveryHarness.waitUntil(10) { s.mx.received.count == 3 })

            // Idempotency: the repeat answers the same and sends nothing.
            let once = #"{"from":"app@local.test","to":["ok4@dest.test"],"text":"once"}"#
            let first = try s.send(once, headers: ["Idempotency-Key: order-42"])
            let again = try s.send(once, headers: ["Idempotency-Key: order-42"])
            #expect(first.status == 202 && again.status == 202)
            #expect(first.json["id"] as? String == again.json["id"] as? String)
            #expect(again.headers.lowercased().contains("idempotent-replayed: true"))
            #expect(await DeliveryHarness.waitUntil(10) { s.mx.received.count == 4 })
            try await Task.sleep(for: .milliseconds(500))
            #expect(s.mx.received.count == 4)

            // Another domain's key cannot read this domain's messages.
            #expect(try APITestSupport.curl("GET", s.base + "/v1/messages/\(id)", key: s.otherKey).status == 404)
        } catch {
            Issue.record("\(error)")
        }
        await s.finish()
    }

    @Test func bouncesSuppressAndUnsubscribeAndWebhooksArriveOnce() async throws {
        let s = try await Setup()
        do {
            // 550 5.1.1: bounced, then suppressed; the next send is answered "suppressed" and never reaches the MX.
            let bounced = try s.send(#"{"from":"app@local.test","to":["reject1@dest.test"],"text":"x"}"#)
            let id = try #require(bounced.json["id"] as? String)
            #expect(await DeliveryHarness.waitUntil(10) { (try? await s.events(id)) == ["queued", "bounced"] })
            #expect(try s.status(id) == ["bounced"])
            #expect(await DeliveryHarness.waitUntil(5) {
                (try? APITestSupport.curl("GET", s.base + "/v1/suppressions/reject1@dest.test", key: s.key).status) == 200
            })
            let entry = try APITestSupport.curl("GET", s.base + "/v1/suppressions/reject1@dest.test", key: s.key).json
            #expect(entry["reason"] as? String == "hard-bounce" && entry["domain"] as? String == "local.test")
            let connections = s.mx.connections
            let again = try s.send(#"{"from":"app@local.test","to":["reject1@dest.test","ok9@dest.test"],"text":"x"}"#)
            #expect((again.json["recipients"] as? [[String: String]]) == [["address": "reject1@dest.test", "status": "suppressed"],
                                                                           ["address": "ok9@dest.test", "status": "queued"]])
            #expect(await DeliveryHarness.waitUntil(10) { s.mx.received.contains { $0.recipients == ["ok9@dest.test"] } })
            #expect(s.mx.connections == connections + 1)
            #expect(!s.mx.received.contains { $0.recipients.contains("reject1@dest.test") })

            // 550 5.7.1 (policy) bounces but does not suppress.
            let policy = try s.send(#"{"from":"app@local.test","to":["policy1@dest.test"],"text":"x"}"#)
            let policyID = try #require(policy.json["id"] as? String)
            #expect(await DeliveryHarness.waitUntil(10) { (try? await s.events(policyID)) == ["queued", "bounced"] })
            try await Task.sleep(for: .milliseconds(300))
            #expect(try APITestSupport.curl("GET", s.base + "/v1/suppressions/policy1@dest.test", key: s.key).status == 404)

            // PUT, GET, DELETE of a manual entry.
            let put = try APITestSupport.curl("PUT", s.base + "/v1/suppressions/Manual@dest.test", key: s.key, body: #"{"reason":"asked by phone"}"#)
            #expect(put.status == 200 && put.json["address"] as? String == "manual@dest.test" && put.json["reason"] as? String == "manual")
            #expect(try APITestSupport.curl("DELETE", s.base + "/v1/suppressions/manual@dest.test", key: s.key).status == 204)
            #expect(try APITestSupport.curl("DELETE", s.base + "/v1/suppressions/manual@dest.test", key: s.key).status == 404)

            // One-click unsubscribe: both fields signed, GET never unsubscribes, a changed token is 404, POST is.
            let unsub = try s.send(#"{"from":"app@local.test","to":["reader@dest.test"],"subject":"news","text":"x","unsubscribe":true}"#)
            #expect(unsub.status == 202, "\(unsub.body)")
            #expect(await DeliveryHarness.waitUntil(10) { s.mx.received.contains { $0.recipients == ["reader@dest.test"] } })
            let delivered = try #require(s.mx.received.last { $0.recipients == ["reader@dest.test"] })
            let inspected = try APITestSupport.inspect(delivered.data, dkimTXT: s.dkimTXT)
            #expect(inspected["dkim"] as? Bool == true)
            let signed = (inspected["h"] as? String ?? "").split(separator: ":").map(String.init)
            #expect(signed.contains("list-unsubscribe") && signed.contains("list-unsubscribe-post"))
            #expect(inspected["list_unsubscribe_post"] as? String == "List-Unsubscribe=One-Click")
            let links = (inspected["list_unsubscribe"] as? String ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " <>")) }
            #expect(links.count == 2 && links[1].hasPrefix("mailto:unsubscribe@local.test?subject="), "\(links)")
            let link = try #require(links.first { $0.hasPrefix("https://mx.local.test/unsubscribe/") })
            let path = try #require(link.range(of: "/unsubscribe/").map { String(link[$0.lowerBound...]) })
            let page = try APITestSupport.curl("GET", s.base + path)
            #expect(page.status == 200 && page.body.contains("<form method=\"post\""))
            #expect(try APITestSupport.curl("GET", s.base + "/v1/suppressions/reader@dest.test", key: s.key).status == 404)
            var altered = Array(path)
            altered[altered.count - 3] = altered[altered.count - 3] == "A" ? "B" : "A"
            let forged = try APITestSupport.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                                                                  "-d", "List-Unsubscribe=One-Click", s.base + String(altered)])
            #expect(forged == "404")
            let clicked = try APITestSupport.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                                                                   "-d", "List-Unsubscribe=One-Click", s.base + path])
            #expect(clicked == "200")
            let after = try APITestSupport.curl("GET", s.base + "/v1/suppressions/reader@dest.test", key: s.key)
            #expect(after.status == 200 && after.json["reason"] as? String == "unsubscribe")

            // Webhooks: every event arrives, signed; the receiver down for a while and Apus restarted in between.
            await s.server.flushEvents()
            #expect(await DeliveryHarness.waitUntil(20) { s.receiver.received.count >= 10 })
            s.receiver.down = true
            let late = try s.send(#"{"from":"app@local.test","to":["ok7@dest.test"],"text":"while down"}"#)
            let lateID = try #require(late.json["id"] as? String)
            #expect(await DeliveryHarness.waitUntil(10) { (try? await s.events(lateID)) == ["queued", "delivered"] })
            await s.stop()
            s.receiver.down = false
            try await s.start()
            await s.server.flushEvents()
            let store = s.server.eventStore
            let all = try await store.events(EventQuery(limit: 1000))
            #expect(await DeliveryHarness.waitUntil(40) { s.receiver.received.count >= all.count })
            let received = s.receiver.received
            let ids = received.compactMap { $0.event["id"] as? Int }
            #expect(received.allSatisfy { $0.valid })
            #expect(Set(ids).count == ids.count, "an event arrived twice: \(ids)")
            #expect(Set(ids) == Set(all.map { Int($0.id) }))
            #expect(received.contains { $0.event["message_id"] as? String == lateID && $0.event["type"] as? String == "delivered" })

            // The events API pages with a cursor and `next`.
            let page1 = try APITestSupport.curl("GET", s.base + "/v1/events?limit=3", key: s.key).json
            let next = try #require(page1["next"] as? String)
            let page2 = try APITestSupport.curl("GET", s.base + "/v1/events?limit=3&after=\(next)", key: s.key).json
            let firstIDs = (page1["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
            let secondIDs = (page2["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
            #expect(firstIDs.count == 3 && secondIDs.count == 3 && firstIDs.max()! < secondIDs.min()!)
            let bouncedOnly = try APITestSupport.curl("GET", s.base + "/v1/events?type=bounced", key: s.key).json
            #expect((bouncedOnly["events"] as? [[String: Any]] ?? []).allSatisfy { $0["type"] as? String == "bounced" })
            // An empty or unknown type is a 400 naming the valid ones, not an unfiltered page (schemathesis found it).
            for query in ["type=", "type=bounced,,queued", "type=bogus"] {
                let refused = try APITestSupport.curl("GET", s.base + "/v1/events?" + query, key: s.key)
                #expect(refused.status == 400, "\(query)")
                #expect(refused.body.contains("bounced"), "\(query)")
            }

            // `apus events --json` prints the same events.
            if FileManager.default.isExecutableFile(atPath: ServerDeliveryTests.apusBinary) {
                let output = try APITestSupport.run(ServerDeliveryTests.apusBinary, ["events", "--config", s.configDir, "--json", "--type", "bounced"])
                let lines = output.split(separator: "\n")
                #expect(lines.count == 2, "\(output)")
                #expect(lines.allSatisfy { $0.contains("\"type\":\"bounced\"") })
            }

            // The mailto: form: a message to unsubscribe@local.test with the token as its subject.
            let second = try s.send(#"{"from":"app@local.test","to":["reader2@dest.test"],"text":"x","unsubscribe":true}"#)
            #expect(second.status == 202)
            #expect(await DeliveryHarness.waitUntil(10) { s.mx.received.contains { $0.recipients == ["reader2@dest.test"] } })
            let copy = try #require(s.mx.received.last { $0.recipients == ["reader2@dest.test"] })
            let header = try #require(APITestSupport.inspect(copy.data, dkimTXT: s.dkimTXT)["list_unsubscribe"] as? String)
            let mailto = try #require(header.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " <>")) }
                .first { $0.hasPrefix("mailto:unsubscribe@local.test?subject=") })
            let token = String(mailto.dropFirst("mailto:unsubscribe@local.test?subject=".count))
            let mxPort = try #require(await s.server.boundAddresses().first { $0.0 == .mx }?.1.port)
            let reply = try APITestSupport.run("/usr/bin/swaks", ["--server", "127.0.0.1:\(mxPort)", "--from", "reader2@dest.test",
                                                                  "--to", "unsubscribe@local.test", "--header", "Subject: Re: \(token)",
                                                                  "--body", "unsubscribe me", "--hide-all"])
            _ = reply
            #expect(await DeliveryHarness.waitUntil(5) {
                (try? APITestSupport.curl("GET", s.base + "/v1/suppressions/reader2@dest.test", key: s.key).json["reason"] as? String) == "unsubscribe"
            })
        } catch {
            Issue.record("\(error)")
        }
        await s.finish()
    }
}
