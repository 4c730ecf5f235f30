import DNSCore
import NIOCore
import Testing

/// Builds wire messages by hand for decoder tests.
enum Wire {
    static func header(id: UInt16 = 0x1234, flags: UInt16 = 0x8180, qd: UInt16 = 0, an: UInt16 = 0,
                       ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
        [id, flags, qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
    static func name(_ labels: String...) -> [UInt8] {
        labels.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }
    static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func u32(_ value: UInt32) -> [UInt8] { u16(UInt16(value >> 16)) + u16(UInt16(value & 0xFFFF)) }
    /// Type, class IN, TTL and RDLENGTH + RDATA.
    static func rr(type: UInt16, ttl: UInt32 = 300, rdata: [UInt8], rdlength: Int? = nil) -> [UInt8] {
        u16(type) + u16(1) + u32(ttl) + u16(UInt16(rdlength ?? rdata.count)) + rdata
    }
    /// Question `example.test A IN` at offset 12 (the name is 14 bytes).
    static let question = name("example", "test") + u16(1) + u16(1)
}

struct DNSMessageTests {
    static let example: DNSName = "example.test"

    /// One message per record type: encode, decode, compare.
    static let roundTrips: [DNSRecordData] = [
        .a(IPAddress("192.0.2.1")!),
        .aaaa(IPAddress("2001:db8::1")!),
        .mx(preference: 10, exchange: "mx1.example.test"),
        .mx(preference: 0, exchange: .root),
        .txt([Array("v=spf1 -all".utf8)]),
        .txt([Array(repeating: UInt8(ascii: "a"), count: 255), Array("tail".utf8), []]),
        .ptr("host.example.test"),
        .cname("alias.example.test"),
        .ns("ns1.example.test"),
        .soa(DNSSOA(mname: "ns1.example.test", rname: "hostmaster.example.test", serial: 2026113001,
                    refresh: 3600, retry: 600, expire: 604800, minimum: 300)),
        .tlsa(usage: 3, selector: 1, matchingType: 1, data: Array(0..<32)),
        .unknown(type: DNSRecordType(rawValue: 99), data: [1, 2, 3]),
        .unknown(type: DNSRecordType(rawValue: 65280), data: []),
    ]

    @Test(arguments: roundTrips)
    func roundTrip(_ data: DNSRecordData) throws {
        var header = DNSHeader(id: 77)
        header.isResponse = true
        header.authenticatedData = true
        let message = DNSMessage(
            header: header, questions: [DNSQuestion(name: Self.example, type: data.type)],
            answers: [DNSResourceRecord(name: Self.example, ttl: 3600, data: data)],
            authorities: [DNSResourceRecord(name: "test", ttl: 60, data: .ns("ns.test"))],
            additionals: [DNSResourceRecord(name: "ns.test", ttl: 60, data: .a(IPAddress("192.0.2.53")!))],
            edns: EDNS(udpPayloadSize: 1232))
        let decoded = try DNSMessage(decoding: message.encoded())
        #expect(decoded == message)
    }

    @Test func queryHasEDNSAndAD() throws {
        let query = DNSMessage.query(id: 0xBEEF, name: "Example.Test", type: .mx)
        let bytes = query.encodedBytes
        #expect(Array(bytes[0..<4]) == [0xBE, 0xEF, 0x01, 0x20])  // RD + AD
        #expect(Array(bytes[4..<12]) == [0, 1, 0, 0, 0, 0, 0, 1])
        let decoded = try DNSMessage(decoding: bytes)
        #expect(decoded.edns?.udpPayloadSize == 1232)
        #expect(decoded.questions.first?.name.description == "Example.Test")
    }

    @Test func encoderCompresses() {
        let message = DNSMessage(header: DNSHeader(id: 1), questions: [DNSQuestion(name: Self.example, type: .mx)],
                                 answers: [DNSResourceRecord(name: Self.example, ttl: 1,
                                                             data: .mx(preference: 1, exchange: "mx.example.test"))])
        let bytes = message.encodedBytes
        // header 12 + question name 14 + 4 = 30; answer owner is a pointer to 12: C0 0C.
        #expect(Array(bytes[30..<32]) == [0xC0, 0x0C])
        // MX exchange "mx" + pointer to 12.
        #expect(Array(bytes.suffix(5)) == [2, UInt8(ascii: "m"), UInt8(ascii: "x"), 0xC0, 0x0C])
    }

    @Test func decodesCompressionPointers() throws {
        var bytes = Wire.header(qd: 1, an: 3) + Wire.question
        bytes += [0xC0, 12] + Wire.rr(type: 1, rdata: [192, 0, 2, 1])                   // example.test A
        let wwwOffset = UInt8(bytes.count)
        bytes += [3] + Array("www".utf8) + [0xC0, 12] + Wire.rr(type: 5, rdata: [0xC0, 12]) // www → example.test
        bytes += [0xC0, wwwOffset] + Wire.rr(type: 15, rdata: Wire.u16(5) + [2] + Array("mx".utf8) + [0xC0, wwwOffset])
        let message = try DNSMessage(decoding: bytes)
        #expect(message.header.id == 0x1234)
        #expect(message.header.isResponse && message.header.recursionAvailable)
        #expect(message.answers.map(\.name.description) == ["example.test", "www.example.test", "www.example.test"])
        #expect(message.answers.map(\.data) == [
            .a(IPAddress("192.0.2.1")!), .cname("example.test"), .mx(preference: 5, exchange: "mx.www.example.test"),
        ])
    }

    /// Malformed packets, each with the error it must give.
    static let malformed: [(String, [UInt8], DNSDecodeError)] = {
        let q = Wire.question
        let h: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) -> [UInt8] = Wire.header(_:_:_:_:_:_:)
        var cases: [(String, [UInt8], DNSDecodeError)] = [
            ("empty", [], .truncatedHeader),
            ("short header", Array(h(0x1234, 0x8180, 0, 0, 0, 0).prefix(11)), .truncatedHeader),
            ("question count too high", h(0x1234, 0x8180, 1, 0, 0, 0), .countMismatch(section: .question, expected: 1, found: 0)),
            ("answer count too high", h(0x1234, 0x8180, 1, 2, 0, 0) + q + [0xC0, 12] + Wire.rr(type: 1, rdata: [1, 2, 3, 4]),
             .countMismatch(section: .answer, expected: 2, found: 1)),
            ("additional count too high", h(0x1234, 0x8180, 1, 0, 0, 1) + q, .countMismatch(section: .additional, expected: 1, found: 0)),
            ("name without end", h(0x1234, 0x8180, 1, 0, 0, 0) + [3] + Array("abc".utf8), .truncatedName(offset: 16)),
            ("label past end", h(0x1234, 0x8180, 1, 0, 0, 0) + [9] + Array("abc".utf8), .truncatedName(offset: 12)),
            ("pointer to itself", h(0x1234, 0x8180, 1, 0, 0, 0) + [0xC0, 12] + Wire.u16(1) + Wire.u16(1), .compressionLoop(offset: 12)),
            ("pointer loop", h(0x1234, 0x8180, 1, 0, 0, 0) + [1, 0x61, 0xC0, 12] + Wire.u16(1) + Wire.u16(1), .compressionLoop(offset: 14)),
            ("forward pointer", h(0x1234, 0x8180, 1, 0, 0, 0) + [0xC0, 20] + Wire.u16(1) + Wire.u16(1) + [0, 0, 0], .forwardPointer(offset: 12, target: 20)),
            ("pointer out of range", h(0x1234, 0x8180, 1, 0, 0, 0) + [0xC0, 0xFF] + Wire.u16(1) + Wire.u16(1), .pointerOutOfRange(offset: 12, target: 255)),
            ("half a pointer", h(0x1234, 0x8180, 1, 0, 0, 0) + [0xC0], .truncatedName(offset: 12)),
            ("label length 64", h(0x1234, 0x8180, 1, 0, 0, 0) + [64] + [UInt8](repeating: 0x61, count: 64) + [0], .labelTooLong(offset: 12, length: 64)),
            ("reserved label type 10", h(0x1234, 0x8180, 1, 0, 0, 0) + [0x80, 0], .labelTooLong(offset: 12, length: 128)),
            ("name over 255", h(0x1234, 0x8180, 1, 0, 0, 0) + (0..<4).flatMap { _ in [63] + [UInt8](repeating: 0x61, count: 63) } + [0],
             .nameTooLong(offset: 204)),
            ("question without class", h(0x1234, 0x8180, 1, 0, 0, 0) + [0, 0, 1], .truncatedRecord(offset: 15)),
            ("record without TTL", h(0x1234, 0x8180, 1, 1, 0, 0) + q + [0xC0, 12, 0, 1, 0, 1, 0], .truncatedRecord(offset: 36)),
            ("rdata past end", h(0x1234, 0x8180, 1, 1, 0, 0) + q + [0xC0, 12] + Wire.rr(type: 1, rdata: [1, 2], rdlength: 4), .truncatedRData(offset: 42)),
            ("A of 3 bytes", h(0x1234, 0x8180, 1, 1, 0, 0) + q + [0xC0, 12] + Wire.rr(type: 1, rdata: [1, 2, 3]), .invalidRData(type: .a, offset: 42)),
            ("AAAA of 4 bytes", h(0x1234, 0x8180, 1, 1, 0, 0) + q + [0xC0, 12] + Wire.rr(type: 28, rdata: [1, 2, 3, 4]), .invalidRData(type: .aaaa, offset: 42)),
            ("MX without exchange", h(0x1234, 0x8180, 1, 1, 0, 0) + q + [0xC0, 12] + Wire.rr(type: 15, rdata: [0, 10]), .invalidRData(type: .mx, offset: 42)),
            ("CNAME name past RDLENGTH", h(0x1234, 0x8180, 1, 1, 0, 0) + q + [0xC0, 12] + Wire.rr(type: 5, rdata: [3, 0x61, 0x62], rdlength: 3) + [0x63, 0],
             .invalidRData(type: .cname, offset: 42)),
            ("CNAME shorter than RDLENGTH", h(0x1234, 0x8180, 1, 1, 0, 0) + q + [0xC0, 12] + Wire.rr(type: 5, rdata: [0, 0xFF]), .invalidRData(type: .cname, offset: 42)),
            ("TXT string past RDLENGTH", h(0x1234, 0x8180, 1, 1, 0, 0) + q + [0xC0, 12] + Wire.rr(type: 16, rdata: [5, 0x61, 0x62]), .invalidRData(type: .txt, offset: 42)),
            ("SOA without numbers", h(0x1234, 0x8180, 1, 0, 1, 0) + q + [0xC0, 12] + Wire.rr(type: 6, rdata: [0, 0, 0, 0]), .invalidRData(type: .soa, offset: 42)),
            ("TLSA of 2 bytes", h(0x1234, 0x8180, 1, 1, 0, 0) + q + [0xC0, 12] + Wire.rr(type: 52, rdata: [3, 1]), .invalidRData(type: .tlsa, offset: 42)),
            ("trailing bytes", h(0x1234, 0x8180, 1, 0, 0, 0) + q + [1, 2, 3], .trailingBytes(count: 3)),
            ("two OPT records", h(0x1234, 0x8180, 0, 0, 0, 2) + [0] + Wire.rr(type: 41, rdata: []) + [0] + Wire.rr(type: 41, rdata: []), .invalidOPT(offset: 23)),
            ("OPT in answer", h(0x1234, 0x8180, 0, 1, 0, 0) + [0] + Wire.rr(type: 41, rdata: []), .invalidOPT(offset: 12)),
            ("OPT with owner", h(0x1234, 0x8180, 0, 0, 0, 1) + [1, 0x61, 0] + Wire.rr(type: 41, rdata: []), .invalidOPT(offset: 12)),
            ("OPT option past end", h(0x1234, 0x8180, 0, 0, 0, 1) + [0] + Wire.rr(type: 41, rdata: [0, 8, 0, 9, 1]), .invalidRData(type: .opt, offset: 27)),
        ]
        cases.append(("pointer inside RDATA into nothing", h(0x1234, 0x8180, 1, 1, 0, 0) + q + [0xC0, 12] + Wire.rr(type: 12, rdata: [0xC0, 0x7F]),
                      .pointerOutOfRange(offset: 42, target: 127)))
        return cases
    }()

    @Test(arguments: malformed)
    func rejectsMalformed(_ label: String, _ bytes: [UInt8], _ error: DNSDecodeError) {
        #expect(throws: error, "\(label)") { try DNSMessage(decoding: bytes) }
    }

    /// A TXT record with no strings at all (RDLENGTH 0; RFC 7208 suite `null-text`) is skipped and the other
    /// records of the answer kept: not a decode error that would make SPF a temperror.
    @Test func txtWithoutStringsIsSkippedAndTheRestKept() throws {
        let spf = Array("v=spf1 -all".utf8)
        let bytes = Wire.header(0x1234, 0x8180, 1, 2, 0, 0) + Wire.question + [0xC0, 12] + Wire.rr(type: 16, rdata: [])
            + [0xC0, 12] + Wire.rr(type: 16, rdata: [UInt8(spf.count)] + spf)
        let message = try DNSMessage(decoding: bytes)
        #expect(message.answers.map(\.data) == [.txt([spf])])
    }

    /// Every prefix of a valid message fails with a typed error and never crashes.
    @Test func everyTruncationFails() throws {
        let message = DNSMessage(header: DNSHeader(id: 9), questions: [DNSQuestion(name: Self.example, type: .mx)],
                                 answers: Self.roundTrips.map { DNSResourceRecord(name: Self.example, ttl: 5, data: $0) },
                                 edns: EDNS(udpPayloadSize: 1232))
        let bytes = message.encodedBytes
        #expect(try DNSMessage(decoding: bytes) == message)
        for length in 0..<bytes.count {
            #expect(throws: DNSDecodeError.self) { try DNSMessage(decoding: Array(bytes.prefix(length))) }
        }
    }
}

extension Wire {
    static func header(_ id: UInt16, _ flags: UInt16, _ qd: UInt16, _ an: UInt16, _ ns: UInt16, _ ar: UInt16) -> [UInt8] {
        header(id: id, flags: flags, qd: qd, an: an, ns: ns, ar: ar)
    }
}
