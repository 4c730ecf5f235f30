import Config
import Delivery
import DNSCore
import Foundation
import NIOCore
import SMTPTransport
import Synchronization
import Testing

/// Per-provider limits (`[delivery.providers.NAME]`): the pure pace, then real deliveries to fake MX hosts
/// on 127.0.0.x grouped into providers, with a fake clock for the pace.
@Suite struct ProviderPacingTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Start times 60/rate apart; a rate-limit deferral halves the rate for 10 minutes, then it is back.
    @Test func paceStateSpacesAndHalves() {
        var pace = PaceState()
        let starts = (0..<4).map { _ in pace.reserve(limit: 120, now: Self.t0) }
        #expect(starts.map { $0.timeIntervalSince(Self.t0) } == [0, 0.5, 1.0, 1.5])
        pace.rateLimited(limit: 120, now: Self.t0.addingTimeInterval(2))
        #expect(pace.rate(limit: 120, now: Self.t0.addingTimeInterval(3)) == 60)
        let slow = (0..<3).map { _ in pace.reserve(limit: 120, now: Self.t0.addingTimeInterval(2)) }
        #expect(slow.map { $0.timeIntervalSince(Self.t0) } == [3, 4, 5])
        #expect(pace.rate(limit: 120, now: Self.t0.addingTimeInterval(2 + 600)) == 120)
    }

    @Test(arguments: [
        ("421 4.7.28 Gmail has detected an unusual rate of mail", true),
        ("451 4.7.650 The mail server has been temporarily rate limited due to IP reputation", true),
        ("421 4.7.0 [TSS04] Messages temporarily deferred due to unexpected volume", true),
        ("451 4.7.1 Greylisted, try again later", false),
        ("450 4.2.1 mailbox busy", false),
        ("550 5.7.28 unusual rate of unsolicited mail", false),
    ])
    func rateLimitReplies(line: String, expected: Bool) {
        let reply = SMTPClientReply(code: Int(line.prefix(3))!, lines: [String(line.dropFirst(4))])
        #expect(PaceState.isRateLimit(reply) == expected)
    }

    @Test func providerPatterns() {
        let builtIn = ApusConfig.Provider.builtIn
        let gmail = builtIn[0]
        #expect(gmail.matches("gmail-smtp-in.l.google.com."))
        #expect(gmail.matches("ASPMX.L.GOOGLE.COM"))
        #expect(!gmail.matches("google.com.evil.test"))
        #expect(!gmail.matches("notgoogle.com"))
        #expect(Provider.of("mta5.am0.yahoodns.net", in: builtIn)?.name == "yahoo")
        #expect(Provider.of("mx.example.com", in: builtIn) == nil)
    }

    /// A clock that sleeping moves forward: deliveries run as fast as the machine allows while the pacer
    /// sees the minutes pass.
    final class FakeClock: Sendable {
        let value = Mutex(ProviderPacingTests.t0)
        var now: Date { value.withLock { $0 } }
        func sleep(until date: Date) { value.withLock { $0 = max($0, date) } }
    }

    /// The most connection slots the pacer had handed out at once.
    final class Peak: Sendable {
        let value = Mutex(0)
    }

    static func resolver() -> StaticResolver {
        var dns = StaticResolver()
        dns.add("a.test", .mx(preference: 10, exchange: "mx1.bigmail.test"))
        dns.add("b.test", .mx(preference: 10, exchange: "mx2.bigmail.test"))
        dns.add("c.test", .mx(preference: 10, exchange: "mx.othermail.test"))
        dns.add("mx1.bigmail.test", .a(IPAddress("127.0.0.2")!))
        dns.add("mx2.bigmail.test", .a(IPAddress("127.0.0.3")!))
        dns.add("mx.othermail.test", .a(IPAddress("127.0.0.4")!))
        return dns
    }

    static let big = Provider(name: "bigmail", mx: ["*.bigmail.test"], maxConnections: 2, maxMessagesPerMinute: 60)
    static let other = Provider(name: "othermail", mx: ["mx.othermail.test"], maxConnections: 2, maxMessagesPerMinute: 60)

    /// Two MX hosts of one provider share its limits: never more than 2 sessions at both fakes together,
    /// and 40 messages take 39 paced minutes' seconds at 60 a minute (within 10 %).
    @Test func connectionsAndPaceCountBothHosts() async throws {
        let mx1 = try await FakeMX.start(ip: "127.0.0.2", port: 0)
        let mx2 = try await FakeMX.start(ip: "127.0.0.3", port: mx1.port, sharingSessionsWith: mx1)
        let clock = FakeClock()
        let pacer = ProviderPacer(clock: { clock.now }, sleep: { clock.sleep(until: $0) })
        let harness = try DeliveryHarness(dns: Self.resolver(), port: mx1.port, providers: [Self.big, Self.other], pacing: pacer)
        let peak = Peak()
        let n = 40
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<n {
                group.addTask {
                    let domain = i % 2 == 0 ? "a.test" : "b.test"
                    let results = await harness.courier.deliver(domain: domain, mailFrom: "s@local.test", recipients: ["r\(i)@\(domain)"],
                                                                message: ByteBuffer(string: "Subject: \(i)\r\n\r\nx\r\n"), smtputf8: false)
                    #expect(results.map(\.outcome) == [.sent], "\(results)")
                    #expect(results.first?.provider == "bigmail")
                    let open = pacer.openConnections("bigmail")
                    peak.value.withLock { $0 = max($0, open) }
                }
            }
        }
        let elapsed = clock.now.timeIntervalSince(Self.t0)
        let perMinute = Double(n - 1) / elapsed * 60
        print("provider pacing: \(n) messages over \(elapsed) s of paced time = \(perMinute) per minute; "
              + "at most \(mx1.maxConcurrentSessions) sessions open at both fakes together; \(mx1.connections + mx2.connections) connections")
        #expect(mx1.received.count + mx2.received.count == n)
        #expect(abs(perMinute - 60) <= 6)
        #expect(peak.value.withLock { $0 } <= 2)
        // Seen from the fake MX, a connection Apus has just closed (its slot already given back) may still be
        // open for a moment while its successor connects: one more than the limit, never two more.
        #expect(mx1.maxConcurrentSessions <= 3)
        #expect(mx1.maxConcurrentSessions >= 1)
        #expect(mx1.received.count > 0 && mx2.received.count > 0)
        await harness.stop()
        await mx1.stop()
        await mx2.stop()
    }

    /// A 421 4.7.28 from one of the provider's hosts halves that provider's pace; another provider keeps its
    /// own: 10 messages in a row take 18 s of paced time at bigmail (2 s apart), 9 s at othermail (1 s apart).
    @Test func rateLimitSlowsOnlyThatProvider() async throws {
        let mx1 = try await FakeMX.start(ip: "127.0.0.2", port: 0, behavior: .init(rcpt: { address in
            address.hasPrefix("slow") ? "421 4.7.28 Gmail has detected an unusual rate of mail" : "250 2.1.5 Ok"
        }))
        let mx3 = try await FakeMX.start(ip: "127.0.0.4", port: mx1.port)
        let clock = FakeClock()
        let pacer = ProviderPacer(clock: { clock.now }, sleep: { clock.sleep(until: $0) })
        let harness = try DeliveryHarness(dns: Self.resolver(), port: mx1.port, providers: [Self.big, Self.other], pacing: pacer)
        func send(_ address: String) async -> RecipientResult? {
            let domain = String(address.split(separator: "@")[1])
            return await harness.courier.deliver(domain: domain, mailFrom: "s@local.test", recipients: [address],
                                                 message: ByteBuffer(string: "Subject: x\r\n\r\nx\r\n"), smtputf8: false).first
        }
        let limited = await send("slow@a.test")
        #expect(limited?.outcome == .temporary)
        #expect(limited?.provider == "bigmail")
        #expect(pacer.currentPace(of: [Self.big, Self.other]) == ["bigmail": 30, "othermail": 60])

        func pacedSeconds(_ domain: String) async -> Double {
            let start = clock.now
            for i in 0..<10 { #expect(await send("m\(i)@\(domain)")?.outcome == .sent) }
            return clock.now.timeIntervalSince(start)
        }
        let other = await pacedSeconds("c.test")
        let big = await pacedSeconds("a.test")
        print("after a 421 4.7.28: 10 messages took \(big) s of paced time at bigmail, \(other) s at othermail")
        #expect(abs(other - 9) <= 0.9)
        #expect(abs(big - 18) <= 1.8)
        #expect(mx3.received.count == 10)
        await harness.stop()
        await mx1.stop()
        await mx3.stop()
    }
}
