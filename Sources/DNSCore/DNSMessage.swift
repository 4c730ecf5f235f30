import NIOCore

/// A DNS message (RFC 1035 §4.1): header, questions and three record sections, plus the EDNS0 OPT
/// record (RFC 6891 §6.1) lifted out of the additional section into `edns`.
public struct DNSMessage: Sendable, Hashable {
    public var header: DNSHeader
    public var questions: [DNSQuestion]
    public var answers: [DNSResourceRecord]
    public var authorities: [DNSResourceRecord]
    /// Additional records, without the OPT pseudo-record.
    public var additionals: [DNSResourceRecord]
    public var edns: EDNS?

    public init(header: DNSHeader, questions: [DNSQuestion] = [], answers: [DNSResourceRecord] = [],
                authorities: [DNSResourceRecord] = [], additionals: [DNSResourceRecord] = [], edns: EDNS? = nil) {
        self.header = header; self.questions = questions; self.answers = answers
        self.authorities = authorities; self.additionals = additionals; self.edns = edns
    }

    /// A recursive query with EDNS0 (payload 1232) and the AD bit set, asking the server to report
    /// whether it validated the answer (RFC 6840 §5.7).
    public static func query(id: UInt16, name: DNSName, type: DNSRecordType, edns: Bool = true) -> DNSMessage {
        var header = DNSHeader(id: id)
        header.recursionDesired = true
        header.authenticatedData = true
        return DNSMessage(header: header, questions: [DNSQuestion(name: name, type: type)],
                          edns: edns ? EDNS(udpPayloadSize: DNSCore.ednsUDPPayloadSize) : nil)
    }

    /// The full 12-bit response code: header RCODE plus the OPT's extended bits (RFC 6891 §6.1.3).
    public var responseCode: DNSResponseCode {
        DNSResponseCode(rawValue: UInt16(edns?.extendedResponseCode ?? 0) << 4 | UInt16(header.responseCode))
    }
}

/// The fixed 12-byte header (RFC 1035 §4.1.1; AD/CD from RFC 4035 §3.2).
public struct DNSHeader: Sendable, Hashable {
    public var id: UInt16
    public var isResponse = false
    public var opcode: UInt8 = 0
    public var authoritativeAnswer = false
    public var truncated = false
    public var recursionDesired = false
    public var recursionAvailable = false
    /// The Z bit, reserved; kept so that messages round-trip.
    public var zero = false
    public var authenticatedData = false
    public var checkingDisabled = false
    /// The low 4 bits of the RCODE.
    public var responseCode: UInt8 = 0

    public init(id: UInt16) { self.id = id }

    /// The 16 flag bits as on the wire.
    public var flags: UInt16 {
        get {
            var value = UInt16(opcode & 0xF) << 11 | UInt16(responseCode & 0xF)
            if isResponse { value |= 0x8000 }
            if authoritativeAnswer { value |= 0x0400 }
            if truncated { value |= 0x0200 }
            if recursionDesired { value |= 0x0100 }
            if recursionAvailable { value |= 0x0080 }
            if zero { value |= 0x0040 }
            if authenticatedData { value |= 0x0020 }
            if checkingDisabled { value |= 0x0010 }
            return value
        }
        set {
            isResponse = newValue & 0x8000 != 0
            opcode = UInt8((newValue >> 11) & 0xF)
            authoritativeAnswer = newValue & 0x0400 != 0
            truncated = newValue & 0x0200 != 0
            recursionDesired = newValue & 0x0100 != 0
            recursionAvailable = newValue & 0x0080 != 0
            zero = newValue & 0x0040 != 0
            authenticatedData = newValue & 0x0020 != 0
            checkingDisabled = newValue & 0x0010 != 0
            responseCode = UInt8(newValue & 0xF)
        }
    }
}

/// A question (RFC 1035 §4.1.2).
public struct DNSQuestion: Sendable, Hashable {
    public var name: DNSName
    public var type: DNSRecordType
    public var questionClass: DNSClass

    public init(name: DNSName, type: DNSRecordType, questionClass: DNSClass = .internet) {
        self.name = name; self.type = type; self.questionClass = questionClass
    }
}

/// The EDNS0 OPT pseudo-record (RFC 6891 §6.1.2–6.1.3), decoded from its CLASS/TTL/RDATA fields.
public struct EDNS: Sendable, Hashable {
    public var udpPayloadSize: UInt16
    public var extendedResponseCode: UInt8 = 0
    public var version: UInt8 = 0
    /// The DO bit (RFC 3225): ask for DNSSEC records.
    public var dnssecOK = false
    /// The other 15 flag bits, kept for round-trip.
    public var otherFlags: UInt16 = 0
    /// The options (code, data), unparsed.
    public var options: [EDNSOption] = []

    public init(udpPayloadSize: UInt16) { self.udpPayloadSize = udpPayloadSize }
}

public struct EDNSOption: Sendable, Hashable {
    public var code: UInt16
    public var data: [UInt8]
    public init(code: UInt16, data: [UInt8]) { self.code = code; self.data = data }
}
