/// The two things TLS-ALPN-01 (RFC 8737) needs from a TLS ClientHello before the handshake starts: the
/// server name (SNI, RFC 6066 §3) and the ALPN protocols offered (RFC 7301). Pure; reads the raw
/// first record(s) of a connection.
public struct ClientHello: Sendable, Equatable {
    public var serverName: String?
    public var alpn: [String]

    public enum Parse: Sendable, Equatable {
        case complete(ClientHello)
        /// More bytes are needed.
        case incomplete
        /// Not a TLS ClientHello (let the TLS library say why).
        case invalid
    }

    /// Largest ClientHello accepted before giving up waiting (bounded buffering).
    public static let maxBytes = 16 * 1024 + 5

    public static func parse(_ bytes: [UInt8]) -> Parse {
        // One handshake record: type 22, version, length.
        guard bytes.count >= 5 else { return .incomplete }
        guard bytes[0] == 22 else { return .invalid }
        let recordLength = Int(bytes[3]) << 8 | Int(bytes[4])
        guard bytes.count >= 5 + recordLength else { return bytes.count >= maxBytes ? .invalid : .incomplete }
        var r = Reader(bytes: Array(bytes[5..<(5 + recordLength)]))
        guard r.u8() == 1, let length = r.u24(), length <= r.remaining else { return .invalid }
        guard r.skip(2 + 32),                               // client_version, random
              let sessionID = r.u8(), r.skip(Int(sessionID)),
              let suites = r.u16(), r.skip(suites),
              let compression = r.u8(), r.skip(Int(compression)) else { return .invalid }
        var hello = ClientHello(serverName: nil, alpn: [])
        guard r.remaining > 0 else { return .complete(hello) }
        guard let extensionsLength = r.u16(), extensionsLength <= r.remaining else { return .invalid }
        var extensions = Reader(bytes: r.take(extensionsLength))
        while extensions.remaining > 0 {
            guard let type = extensions.u16(), let length = extensions.u16(), length <= extensions.remaining else {
                return .invalid
            }
            var body = Reader(bytes: extensions.take(length))
            switch type {
            case 0:   // server_name: list of (type 0 = host_name, name)
                guard let listLength = body.u16(), listLength <= body.remaining else { return .invalid }
                var list = Reader(bytes: body.take(listLength))
                while list.remaining > 0 {
                    guard let kind = list.u8(), let n = list.u16(), n <= list.remaining else { return .invalid }
                    let name = list.take(n)
                    if kind == 0 { hello.serverName = String(decoding: name, as: UTF8.self).lowercased() }
                }
            case 16:  // application_layer_protocol_negotiation
                guard let listLength = body.u16(), listLength <= body.remaining else { return .invalid }
                var list = Reader(bytes: body.take(listLength))
                while list.remaining > 0 {
                    guard let n = list.u8(), Int(n) <= list.remaining else { return .invalid }
                    hello.alpn.append(String(decoding: list.take(Int(n)), as: UTF8.self))
                }
            default:
                continue
            }
        }
        return .complete(hello)
    }

    struct Reader {
        var bytes: [UInt8]
        var index = 0
        var remaining: Int { bytes.count - index }
        mutating func u8() -> UInt8? {
            guard remaining >= 1 else { return nil }
            defer { index += 1 }
            return bytes[index]
        }
        mutating func u16() -> Int? {
            guard remaining >= 2 else { return nil }
            defer { index += 2 }
            return Int(bytes[index]) << 8 | Int(bytes[index + 1])
        }
        mutating func u24() -> Int? {
            guard remaining >= 3 else { return nil }
            defer { index += 3 }
            return Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
        }
        mutating func skip(_ n: Int) -> Bool {
            guard remaining >= n else { return false }
            index += n
            return true
        }
        mutating func take(_ n: Int) -> [UInt8] {
            let n = min(n, remaining)
            defer { index += n }
            return Array(bytes[index..<(index + n)])
        }
    }
}
