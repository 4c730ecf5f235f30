import DNSCore
import DNSResolver
import NIOCore
import Testing

/// The resolver against an in-process fake server that misbehaves on purpose.
struct FaultInjectionTests {
    static let good = IPAddress("192.0.2.1")!
    static let evil = IPAddress("203.0.113.66")!

    static func a(_ query: DNSMessage, _ ip: IPAddress, ttl: UInt32 = 300) -> DNSResourceRecord {
        DNSResourceRecord(name: query.questionName, ttl: ttl, data: .a(ip))
    }

    static func resolver(_ servers: [String], timeout: Duration = .milliseconds(300), attempts: Int = 1,
                         cache: Int = 0) -> DNSResolver {
        DNSResolver(servers: servers.compactMap { DNSServerAddress($0) }, timeout: timeout, attempts: attempts,
                    cacheCapacity: cache)
    }

    @Test func firstServerSilentSecondAnswers() async throws {
        let silent = try await FakeDNSServer.start { _, _ in [] }
        let working = try await FakeDNSServer.start { q, _ in [.reply(q.reply(answers: [Self.a(q, Self.good)]))] }
        defer { silent.close(); working.close() }
        let clock = ContinuousClock()
        let start = clock.now
        let result = await Self.resolver([silent.address, working.address]).lookup("host.example.test", .a)
        #expect(result.answer?.data == [.a(Self.good)])
        #expect(clock.now - start >= .milliseconds(300))
        #expect(silent.queryCount == 1 && working.queryCount == 1)
    }

    @Test func allSilentIsTimeoutAfterAttempts() async throws {
        let silent = try await FakeDNSServer.start { _, _ in [] }
        defer { silent.close() }
        let result = await Self.resolver([silent.address], timeout: .milliseconds(100), attempts: 3).lookup("x.test", .a)
        #expect(result == .timeout)
        #expect(silent.queryCount == 3)
    }

    @Test func serverFailure() async throws {
        let failing = try await FakeDNSServer.start { q, _ in [.reply(q.reply(rcode: 2))] }
        defer { failing.close() }
        #expect(await Self.resolver([failing.address], attempts: 2).lookup("x.test", .mx) == .serverFailure)
        #expect(failing.queryCount == 2)
    }

    @Test func serverFailureThenNextServer() async throws {
        let failing = try await FakeDNSServer.start { q, _ in [.reply(q.reply(rcode: 2))] }
        let working = try await FakeDNSServer.start { q, _ in [.reply(q.reply(answers: [Self.a(q, Self.good)]))] }
        defer { failing.close(); working.close() }
        let result = await Self.resolver([failing.address, working.address]).lookup("x.test", .a)
        #expect(result.answer?.data == [.a(Self.good)])
    }

    /// A server that does not understand EDNS0 answers FORMERR; the resolver asks again without the OPT record
    /// (RFC 6891 §7) and gets its answer.
    @Test func formerrWithEDNSIsRetriedWithout() async throws {
        let old = try await FakeDNSServer.start { q, _ in
            [.reply(q.edns == nil ? q.reply(answers: [Self.a(q, Self.good)]) : q.reply(rcode: 1))]
        }
        defer { old.close() }
        #expect(await Self.resolver([old.address]).lookup("x.test", .a).answer?.data == [.a(Self.good)])
        #expect(old.queryCount == 2)
    }

    /// FORMERR without EDNS too is a failure, not a loop.
    @Test func formerrAlwaysIsAFailure() async throws {
        let broken = try await FakeDNSServer.start { q, _ in [.reply(q.reply(rcode: 1))] }
        defer { broken.close() }
        let result = await Self.resolver([broken.address]).lookup("x.test", .a)
        #expect(result.answer == nil)
        #expect(broken.queryCount == 2)
    }

    /// A TXT record of 12 strings (3 KB, as long DKIM keys come) is decoded and joined; one too large for a
    /// UDP reply (10 KB, cut by the 4 KB receive buffer) is a malformed reply, quickly, never a crash.
    @Test func hugeTXTRecords() async throws {
        let strings = (0..<12).map { i in [UInt8](repeating: UInt8(ascii: "a") + UInt8(i), count: 255) }
        let big = try await FakeDNSServer.start { q, _ in
            [.reply(q.reply(answers: [DNSResourceRecord(name: q.questionName, ttl: 60, data: .txt(strings))]))]
        }
        defer { big.close() }
        let answer = await Self.resolver([big.address]).lookup("big.test", .txt).answer
        #expect(answer?.data.first?.joinedText?.utf8.count == 12 * 255)

        let huge = try await FakeDNSServer.start { q, _ in
            [.reply(q.reply(answers: [DNSResourceRecord(name: q.questionName, ttl: 60, data: .txt(strings + strings + strings))]))]
        }
        defer { huge.close() }
        let start = ContinuousClock.now
        let result = await Self.resolver([huge.address]).lookup("huge.test", .txt)
        #expect(result.answer == nil, "\(result)")
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func refused() async throws {
        let refusing = try await FakeDNSServer.start { q, _ in [.reply(q.reply(rcode: 5))] }
        defer { refusing.close() }
        #expect(await Self.resolver([refusing.address]).lookup("x.test", .a) == .refused)
    }

    @Test func wrongIdIsIgnored() async throws {
        let server = try await FakeDNSServer.start { q, _ in [
            .reply(q.reply(answers: [Self.a(q, Self.evil)], id: q.header.id &+ 1)),
            .reply(q.reply(answers: [Self.a(q, Self.good)]), delay: .milliseconds(50)),
        ] }
        defer { server.close() }
        #expect(await Self.resolver([server.address]).lookup("x.test", .a).answer?.data == [.a(Self.good)])
    }

    @Test func wrongIdOnlyTimesOut() async throws {
        let server = try await FakeDNSServer.start { q, _ in [.reply(q.reply(answers: [Self.a(q, Self.evil)], id: q.header.id &+ 1))] }
        defer { server.close() }
        #expect(await Self.resolver([server.address]).lookup("x.test", .a) == .timeout)
    }

    @Test func wrongQuestionIsIgnored() async throws {
        let server = try await FakeDNSServer.start { q, _ in
            var other = q.reply(answers: [Self.a(q, Self.evil)])
            other.questions = [DNSQuestion(name: "other.test", type: .a)]
            return [.reply(other), .reply(q.reply(answers: [Self.a(q, Self.good)]), delay: .milliseconds(50))]
        }
        defer { server.close() }
        #expect(await Self.resolver([server.address]).lookup("x.test", .a).answer?.data == [.a(Self.good)])
    }

    @Test func replyFromWrongAddressIsIgnored() async throws {
        let server = try await FakeDNSServer.start { q, _ in [
            .spoofed(q.reply(answers: [Self.a(q, Self.evil)])),
            .reply(q.reply(answers: [Self.a(q, Self.good)]), delay: .milliseconds(50)),
        ] }
        defer { server.close() }
        #expect(await Self.resolver([server.address]).lookup("x.test", .a).answer?.data == [.a(Self.good)])
    }

    @Test func spoofedOnlyTimesOut() async throws {
        let server = try await FakeDNSServer.start { q, _ in [.spoofed(q.reply(answers: [Self.a(q, Self.evil)]))] }
        defer { server.close() }
        #expect(await Self.resolver([server.address]).lookup("x.test", .a) == .timeout)
    }

    @Test func undecodableReplyWithOurIdIsMalformed() async throws {
        let server = try await FakeDNSServer.start { q, _ in
            [.raw(Array(q.reply().encodedBytes.prefix(12)) + [0xC0, 0x0C, 0, 1])]  // pointer loop in question
        }
        defer { server.close() }
        guard case .malformed = await Self.resolver([server.address]).lookup("x.test", .a) else {
            Issue.record("expected malformed"); return
        }
    }

    @Test func truncatedReplyWithoutTCPListenerIsMalformed() async throws {
        let server = try await FakeDNSServer.start { q, _ in
            var reply = q.reply()
            reply.header.truncated = true
            return [.reply(reply)]
        }
        defer { server.close() }
        guard case .malformed = await Self.resolver([server.address]).lookup("x.test", .txt) else {
            Issue.record("expected malformed"); return
        }
    }

    @Test func adBitReported() async throws {
        let server = try await FakeDNSServer.start { q, _ in [.reply(q.reply(answers: [Self.a(q, Self.good)], ad: true))] }
        defer { server.close() }
        let answer = try #require(await Self.resolver([server.address]).lookup("x.test", .a).answer)
        #expect(answer.authenticatedData)
        #expect(server.log.queries.withLock { $0[0].header.authenticatedData && $0[0].edns?.udpPayloadSize == 1232 })
    }

    @Test func cnameChasedAcrossQueries() async throws {
        let server = try await FakeDNSServer.start { q, _ in
            if q.questionName == "www.example.test" {
                return [.reply(q.reply(answers: [DNSResourceRecord(name: q.questionName, ttl: 30, data: .cname("host.example.test"))]))]
            }
            return [.reply(q.reply(answers: [Self.a(q, Self.good, ttl: 100)]))]
        }
        defer { server.close() }
        let answer = try #require(await Self.resolver([server.address]).lookup("www.example.test", .a).answer)
        #expect(answer.canonicalName == "host.example.test")
        #expect(answer.cnameChain.count == 1)
        #expect(answer.ttl == 30)
        #expect(server.queryCount == 2)
    }

    @Test func endlessCNAMEChainIsBounded() async throws {
        let server = try await FakeDNSServer.start { q, n in
            [.reply(q.reply(answers: [DNSResourceRecord(name: q.questionName, ttl: 30, data: .cname(try! DNSName("n\(n).test")))]))]
        }
        defer { server.close() }
        guard case .malformed = await Self.resolver([server.address]).lookup("start.test", .a) else {
            Issue.record("expected malformed"); return
        }
        #expect(server.queryCount == DNSResolver.maxCNAMEChain)
    }

    @Test func concurrentIdenticalLookupsAreCoalesced() async throws {
        let server = try await FakeDNSServer.start { q, _ in [.reply(q.reply(answers: [Self.a(q, Self.good)]), delay: .milliseconds(100))] }
        defer { server.close() }
        let resolver = Self.resolver([server.address])
        let results = await withTaskGroup(of: DNSLookupResult.self) { group in
            for _ in 0..<10 { group.addTask { await resolver.lookup("same.test", .a) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.answer?.data == [.a(Self.good)] })
        #expect(server.queryCount == 1)
    }

    /// A loopback server is asked over shared sockets (`LoopbackUDPSockets`): many queries in flight at once,
    /// answered out of order, each gets its own answer, from at most one source port per event loop.
    @Test func loopbackQueriesShareASocketAndStayApart() async throws {
        let server = try await FakeDNSServer.start { q, _ in
            let n = UInt8(q.questionName.description.split(separator: ".")[0].dropFirst())!
            return [.reply(q.reply(answers: [Self.a(q, IPAddress("192.0.2.\(n)")!)]), delay: .milliseconds(Int64(n % 7) * 15))]
        }
        defer { server.close() }
        let resolver = Self.resolver([server.address], timeout: .seconds(2))
        let answers = await withTaskGroup(of: (Int, DNSLookupResult).self) { group in
            for i in 1...120 { group.addTask { (i, await resolver.lookup("n\(i).test", .a)) } }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for i in 1...120 { #expect(answers[i]?.answer?.data == [.a(IPAddress("192.0.2.\(i)")!)], "n\(i).test") }
        #expect(server.queryCount == 120)
        #expect(Set(server.sourcePorts).count <= System.coreCount)   // one socket per event loop, not per query
    }

    @Test func cacheAndNegativeCache() async throws {
        let soa = DNSResourceRecord(name: "test", ttl: 600, data: .soa(DNSSOA(
            mname: "ns.test", rname: "h.test", serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60)))
        let server = try await FakeDNSServer.start { q, _ in
            switch q.questionName.lowercased.description {
            case "cached.test": return [.reply(q.reply(answers: [Self.a(q, Self.good)]))]
            case "gone.test": return [.reply(q.reply(rcode: 3, authorities: [soa]))]
            case "bare-nx.test": return [.reply(q.reply(rcode: 3))]
            default: return [.reply(q.reply(rcode: 2))]
            }
        }
        defer { server.close() }
        let resolver = Self.resolver([server.address], cache: 100)
        for _ in 0..<3 {
            #expect(await resolver.lookup("cached.test", .a).answer?.data == [.a(Self.good)])
            #expect(await resolver.lookup("GONE.test", .a) == .nxdomain)
            #expect(await resolver.lookup("bare-nx.test", .a) == .nxdomain)  // no SOA: not cached
            #expect(await resolver.lookup("fail.test", .a) == .serverFailure)  // failures: not cached
        }
        let names = server.log.queries.withLock { $0.map(\.questionName.description) }
        #expect(names.filter { $0 == "cached.test" }.count == 1)
        #expect(names.filter { $0.lowercased() == "gone.test" }.count == 1)
        #expect(names.filter { $0 == "bare-nx.test" }.count == 3)
        #expect(names.filter { $0 == "fail.test" }.count == 3)
    }

    @Test func invalidNameIsMalformed() async {
        guard case .malformed = await Self.resolver(["127.0.0.1:9"]).lookup("a..b", .a) else {
            Issue.record("expected malformed"); return
        }
    }
}

struct IPv6ServerTests {
    @Test func answersOverIPv6Loopback() async throws {
        let server: FakeDNSServer
        do {
            server = try await FakeDNSServer.start(host: "::1") { q, _ in
                [.reply(q.reply(answers: [DNSResourceRecord(name: q.questionName, ttl: 5, data: .aaaa(IPAddress("2001:db8::5")!))]))]
            }
        } catch {
            // No IPv6 loopback in this environment (some containers): nothing to test.
            return
        }
        defer { server.close() }
        #expect(server.address.hasPrefix("[::1]:"))
        let resolver = DNSResolver(servers: [DNSServerAddress(server.address)!], timeout: .milliseconds(300), attempts: 1)
        #expect(await resolver.lookup("v6.test", .aaaa).answer?.data == [.aaaa(IPAddress("2001:db8::5")!)])
    }
}
