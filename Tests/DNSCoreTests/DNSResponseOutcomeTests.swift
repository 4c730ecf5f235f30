import DNSCore
import Testing

struct DNSResponseOutcomeTests {
    static func reply(rcode: UInt8 = 0, answers: [DNSResourceRecord] = [], soa: Bool = false) -> DNSMessage {
        var header = DNSHeader(id: 1)
        header.isResponse = true
        header.responseCode = rcode
        let authority = soa ? [DNSResourceRecord(name: "example.test", ttl: 600, data: .soa(DNSSOA(
            mname: "ns.example.test", rname: "h.example.test", serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 120)))] : []
        return DNSMessage(header: header, questions: [DNSQuestion(name: "www.example.test", type: .a)],
                          answers: answers, authorities: authority)
    }

    static let a = DNSResourceRecord(name: "host.example.test", ttl: 60, data: .a(IPAddress("192.0.2.7")!))
    static let cname1 = DNSResourceRecord(name: "www.example.test", ttl: 30, data: .cname("mid.example.test"))
    static let cname2 = DNSResourceRecord(name: "mid.example.test", ttl: 40, data: .cname("host.example.test"))

    @Test func followsChainInMessage() {
        let outcome = DNSResponseOutcome(message: Self.reply(answers: [Self.cname1, Self.cname2, Self.a]),
                                         name: "WWW.example.test", type: .a)
        #expect(outcome == .answer(records: [Self.a], chain: [Self.cname1, Self.cname2], canonicalName: "host.example.test"))
    }

    @Test func chainEndingWithoutDataAsksAgain() {
        let outcome = DNSResponseOutcome(message: Self.reply(answers: [Self.cname1]), name: "www.example.test", type: .a)
        #expect(outcome == .followCNAME(target: "mid.example.test", chain: [Self.cname1]))
    }

    @Test func chainTooLong() {
        let outcome = DNSResponseOutcome(message: Self.reply(answers: [Self.cname1, Self.cname2, Self.a]),
                                         name: "www.example.test", type: .a, maxChain: 1)
        guard case .unusable = outcome else { Issue.record("got \(outcome)"); return }
    }

    @Test func cnameLoop() {
        let back = DNSResourceRecord(name: "mid.example.test", ttl: 1, data: .cname("www.example.test"))
        let outcome = DNSResponseOutcome(message: Self.reply(answers: [Self.cname1, back]), name: "www.example.test", type: .a)
        guard case .unusable = outcome else { Issue.record("got \(outcome)"); return }
    }

    @Test func askingForCNAMEDoesNotChase() {
        let outcome = DNSResponseOutcome(message: Self.reply(answers: [Self.cname1]), name: "www.example.test", type: .cname)
        #expect(outcome == .answer(records: [Self.cname1], chain: [], canonicalName: "www.example.test"))
    }

    @Test(arguments: [
        (UInt8(3), true, DNSResponseOutcome.nxdomain(chain: [], negativeTTL: 120)),
        (3, false, .nxdomain(chain: [], negativeTTL: nil)),
        (0, true, .noData(chain: [], negativeTTL: 120)),
        (0, false, .noData(chain: [], negativeTTL: nil)),
        (2, false, .serverFailure),
        (5, false, .refused),
        (4, false, .unusable("rcode NOTIMP")),
    ])
    func negativeOutcomes(_ rcode: UInt8, _ soa: Bool, _ expected: DNSResponseOutcome) {
        #expect(DNSResponseOutcome(message: Self.reply(rcode: rcode, soa: soa), name: "www.example.test", type: .a) == expected)
    }
}
