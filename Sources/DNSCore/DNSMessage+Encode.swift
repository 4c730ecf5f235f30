import NIOCore

extension DNSMessage {
    /// Encodes the message, compressing names (RFC 1035 §4.1.4) in owner names and in the RDATA of the
    /// RFC 1035 types (NS, CNAME, SOA, PTR, MX), which RFC 3597 §4 allows.
    public func encoded() -> ByteBuffer {
        var writer = DNSWireWriter()
        writer.write(self)
        return writer.buffer
    }

    /// The encoding as bytes.
    public var encodedBytes: [UInt8] { Array(encoded().readableBytesView) }
}

struct DNSWireWriter {
    var buffer = ByteBuffer()
    /// Lowercased name suffixes already written, and where.
    var offsets: [DNSName: Int] = [:]

    mutating func write(_ message: DNSMessage) {
        buffer.writeInteger(message.header.id)
        buffer.writeInteger(message.header.flags)
        let additionalCount = message.additionals.count + (message.edns == nil ? 0 : 1)
        for count in [message.questions.count, message.answers.count, message.authorities.count, additionalCount] {
            buffer.writeInteger(UInt16(truncatingIfNeeded: count))
        }
        for question in message.questions {
            write(question.name)
            buffer.writeInteger(question.type.rawValue)
            buffer.writeInteger(question.questionClass.rawValue)
        }
        for record in message.answers + message.authorities + message.additionals { write(record) }
        if let edns = message.edns { write(edns) }
    }

    mutating func write(_ name: DNSName, compress: Bool = true) {
        var labels = name.labels[...]
        while !labels.isEmpty {
            let suffix = DNSName(validatedLabels: Array(labels))
            if compress, let target = offsets[suffix] {
                buffer.writeInteger(UInt16(0xC000 | target))
                return
            }
            let here = buffer.writerIndex
            if here < 0x4000 && offsets[suffix] == nil { offsets[suffix] = here }
            let label = labels.removeFirst()
            buffer.writeInteger(UInt8(label.count))
            buffer.writeBytes(label)
        }
        buffer.writeInteger(UInt8(0))
    }

    mutating func write(_ record: DNSResourceRecord) {
        write(record.name)
        buffer.writeInteger(record.type.rawValue)
        buffer.writeInteger(record.recordClass.rawValue)
        buffer.writeInteger(record.ttl)
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt16(0))
        let start = buffer.writerIndex
        switch record.data {
        case .a(let ip), .aaaa(let ip):
            buffer.writeBytes(ip.bytes)
        case .mx(let preference, let exchange):
            buffer.writeInteger(preference)
            write(exchange)
        case .txt(let strings):
            for string in strings {
                buffer.writeInteger(UInt8(truncatingIfNeeded: string.count))
                buffer.writeBytes(string.prefix(255))
            }
        case .ptr(let name), .cname(let name), .ns(let name):
            write(name)
        case .soa(let soa):
            write(soa.mname)
            write(soa.rname)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { buffer.writeInteger(value) }
        case .tlsa(let usage, let selector, let matchingType, let data):
            buffer.writeBytes([usage, selector, matchingType])
            buffer.writeBytes(data)
        case .unknown(_, let data):
            buffer.writeBytes(data)
        }
        buffer.setInteger(UInt16(truncatingIfNeeded: buffer.writerIndex - start), at: lengthIndex)
    }

    /// RFC 6891 §6.1.2–6.1.3: OPT with the payload size in CLASS and the extended RCODE, version and
    /// flags in TTL.
    mutating func write(_ edns: EDNS) {
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(DNSRecordType.opt.rawValue)
        buffer.writeInteger(edns.udpPayloadSize)
        let ttl = UInt32(edns.extendedResponseCode) << 24 | UInt32(edns.version) << 16
            | (edns.dnssecOK ? 0x8000 : 0) | UInt32(edns.otherFlags & 0x7FFF)
        buffer.writeInteger(ttl)
        let length = edns.options.reduce(0) { $0 + 4 + $1.data.count }
        buffer.writeInteger(UInt16(truncatingIfNeeded: length))
        for option in edns.options {
            buffer.writeInteger(option.code)
            buffer.writeInteger(UInt16(truncatingIfNeeded: option.data.count))
            buffer.writeBytes(option.data)
        }
    }
}
