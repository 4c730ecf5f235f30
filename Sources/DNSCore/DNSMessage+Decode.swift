import NIOCore

extension DNSMessage {
    /// Decodes a whole message (one UDP datagram, or one TCP frame without its length prefix).
    public init(decoding buffer: ByteBuffer) throws(DNSDecodeError) {
        try self.init(decoding: Array(buffer.readableBytesView))
    }

    /// Decodes a whole message from bytes.
    public init(decoding bytes: [UInt8]) throws(DNSDecodeError) {
        var reader = DNSWireReader(bytes: bytes)
        guard bytes.count >= 12 else { throw .truncatedHeader }
        var header = DNSHeader(id: try reader.u16())
        header.flags = try reader.u16()
        let counts = [Int(try reader.u16()), Int(try reader.u16()), Int(try reader.u16()), Int(try reader.u16())]
        var questions: [DNSQuestion] = []
        for found in 0..<counts[0] {
            guard reader.offset < bytes.count else {
                throw .countMismatch(section: .question, expected: counts[0], found: found)
            }
            let name = try reader.name()
            let type = DNSRecordType(rawValue: try reader.u16(record: true))
            let qclass = DNSClass(rawValue: try reader.u16(record: true))
            questions.append(DNSQuestion(name: name, type: type, questionClass: qclass))
        }
        var sections: [[DNSResourceRecord]] = [[], [], []]
        var edns: EDNS?
        for (index, section) in [DNSSection.answer, .authority, .additional].enumerated() {
            for found in 0..<counts[index + 1] {
                guard reader.offset < bytes.count else {
                    throw .countMismatch(section: section, expected: counts[index + 1], found: found)
                }
                let start = reader.offset
                switch try reader.record() {
                case .record(let record):
                    sections[index].append(record)
                case .opt(let opt):
                    guard section == .additional, edns == nil else { throw .invalidOPT(offset: start) }
                    edns = opt
                case .skipped:
                    break
                }
            }
        }
        if reader.offset < bytes.count { throw .trailingBytes(count: bytes.count - reader.offset) }
        self.init(header: header, questions: questions, answers: sections[0], authorities: sections[1],
                  additionals: sections[2], edns: edns)
    }
}

/// A bounds-checked cursor over a message, with random access for compression pointers.
struct DNSWireReader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func u8(record: Bool = false) throws(DNSDecodeError) -> UInt8 {
        guard offset < bytes.count else { throw record ? .truncatedRecord(offset: offset) : .truncatedHeader }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16(record: Bool = false) throws(DNSDecodeError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw record ? .truncatedRecord(offset: offset) : .truncatedHeader }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(DNSDecodeError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw .truncatedRecord(offset: offset) }
        defer { offset += 4 }
        return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Reads a possibly compressed name at `offset` and moves past it (RFC 1035 §4.1.4). Pointers must
    /// point strictly backwards, each at most once, so decoding always terminates.
    mutating func name(limit: Int? = nil) throws(DNSDecodeError) -> DNSName {
        let end = limit ?? bytes.count
        var labels: [[UInt8]] = []
        var position = offset
        var wireLength = 1
        var jumped = false
        var visited = Set<Int>()
        while true {
            guard position < (jumped ? bytes.count : end) else { throw .truncatedName(offset: position) }
            let length = Int(bytes[position])
            switch length {
            case 0:
                if !jumped { offset = position + 1 }
                return DNSName(validatedLabels: labels)
            case 1...63:
                let labelEnd = position + 1 + length
                guard labelEnd <= (jumped ? bytes.count : end) else { throw .truncatedName(offset: position) }
                wireLength += 1 + length
                guard wireLength <= DNSCore.maxNameLength else { throw .nameTooLong(offset: position) }
                labels.append(Array(bytes[(position + 1)..<labelEnd]))
                position = labelEnd
            case 0xC0...0xFF:
                guard position + 2 <= (jumped ? bytes.count : end) else { throw .truncatedName(offset: position) }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < bytes.count else { throw .pointerOutOfRange(offset: position, target: target) }
                guard target != position, !visited.contains(target) else { throw .compressionLoop(offset: position) }
                guard target < position else { throw .forwardPointer(offset: position, target: target) }
                visited.insert(target)
                if !jumped { offset = position + 2 }
                jumped = true
                position = target
            default:
                throw .labelTooLong(offset: position, length: length)
            }
        }
    }

    /// `skipped`: a record that is framed correctly but carries nothing usable (a TXT without strings); it is
    /// left out and the rest of the answer kept, rather than failing the whole lookup.
    enum Entry { case record(DNSResourceRecord), opt(EDNS), skipped }

    /// Reads one resource record (RFC 1035 §4.1.3).
    mutating func record() throws(DNSDecodeError) -> Entry {
        let start = offset
        let owner = try name()
        let type = DNSRecordType(rawValue: try u16(record: true))
        let rclass = try u16(record: true)
        let ttl = try u32()
        let rdlength = Int(try u16(record: true))
        let rdataStart = offset
        let rdataEnd = rdataStart + rdlength
        guard rdataEnd <= bytes.count else { throw .truncatedRData(offset: rdataStart) }
        if type == .opt {
            guard owner.isRoot else { throw .invalidOPT(offset: start) }
            var edns = EDNS(udpPayloadSize: rclass)
            edns.extendedResponseCode = UInt8(ttl >> 24)
            edns.version = UInt8((ttl >> 16) & 0xFF)
            edns.dnssecOK = ttl & 0x8000 != 0
            edns.otherFlags = UInt16(ttl & 0x7FFF)
            while offset < rdataEnd {
                guard offset + 4 <= rdataEnd else { throw .invalidRData(type: .opt, offset: offset) }
                let code = try u16(record: true)
                let length = Int(try u16(record: true))
                guard offset + length <= rdataEnd else { throw .invalidRData(type: .opt, offset: offset) }
                edns.options.append(EDNSOption(code: code, data: Array(bytes[offset..<offset + length])))
                offset += length
            }
            return .opt(edns)
        }
        if type == .txt && rdlength == 0 {
            // RFC 1035 §3.3.14 wants one or more strings; zone files and servers still produce TXT records
            // with none (RFC 7208 test suite `null-text`). Such a record says nothing: skip it, keep the rest.
            return .skipped
        }
        let data = try rdata(type: type, end: rdataEnd)
        guard offset == rdataEnd else { throw .invalidRData(type: type, offset: rdataStart) }
        return .record(DNSResourceRecord(name: owner, recordClass: DNSClass(rawValue: rclass), ttl: ttl, data: data))
    }

    /// Decodes RDATA of `type` that must end exactly at `end`.
    mutating func rdata(type: DNSRecordType, end: Int) throws(DNSDecodeError) -> DNSRecordData {
        let start = offset
        let length = end - start
        func need(_ count: Int) throws(DNSDecodeError) {
            guard offset + count <= end else { throw .invalidRData(type: type, offset: start) }
        }
        func boundedName() throws(DNSDecodeError) -> DNSName {
            guard offset < end else { throw .invalidRData(type: type, offset: start) }
            do { return try name(limit: end) } catch .truncatedName { throw .invalidRData(type: type, offset: start) }
        }
        switch type {
        case .a, .aaaa:
            guard length == (type == .a ? 4 : 16) else { throw .invalidRData(type: type, offset: start) }
            offset = end
            let ip = IPAddress(bytes: Array(bytes[start..<end]))!
            return type == .a ? .a(ip) : .aaaa(ip)
        case .mx:
            try need(2)
            let preference = try u16(record: true)
            return .mx(preference: preference, exchange: try boundedName())
        case .cname: return .cname(try boundedName())
        case .ptr: return .ptr(try boundedName())
        case .ns: return .ns(try boundedName())
        case .soa:
            let mname = try boundedName()
            let rname = try boundedName()
            try need(20)
            return .soa(DNSSOA(mname: mname, rname: rname, serial: try u32(), refresh: try u32(),
                               retry: try u32(), expire: try u32(), minimum: try u32()))
        case .txt:
            // RFC 1035 §3.3.14: one or more <character-string>s filling the RDATA.
            guard length > 0 else { throw .invalidRData(type: type, offset: start) }
            var strings: [[UInt8]] = []
            while offset < end {
                let count = Int(bytes[offset])
                guard offset + 1 + count <= end else { throw .invalidRData(type: type, offset: offset) }
                strings.append(Array(bytes[(offset + 1)..<(offset + 1 + count)]))
                offset += 1 + count
            }
            return .txt(strings)
        case .tlsa:
            try need(3)
            let usage = bytes[offset], selector = bytes[offset + 1], matching = bytes[offset + 2]
            offset = end
            return .tlsa(usage: usage, selector: selector, matchingType: matching,
                         data: Array(bytes[(start + 3)..<end]))
        default:
            offset = end
            return .unknown(type: type, data: Array(bytes[start..<end]))
        }
    }
}
