/// gzip (RFC 1952) of bytes, with the data in stored deflate blocks (RFC 1951 §3.2.4, BTYPE 00): any
/// gzip reader inflates it, and it needs no compression library. TLS-RPT reports are a few kilobytes, so
/// the missing compression costs little; the format is what RFC 8460 §5.3 asks for (`application/tlsrpt+gzip`).
public enum Gzip {
    public static func wrap(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]   // magic, deflate, no flags, mtime 0, OS unknown
        var offset = 0
        repeat {
            let n = min(65_535, data.count - offset)
            let last = offset + n == data.count
            out.append(last ? 1 : 0)                                     // BFINAL, BTYPE 00
            out += [UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
            out += data[offset..<offset + n]
            offset += n
        } while offset < data.count
        out += le32(crc32(data))
        out += le32(UInt32(truncatingIfNeeded: data.count))
        return out
    }

    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)] }

    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (ISO 3309, as gzip uses it).
    public static func crc32(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for byte in data { c = table[Int((c ^ UInt32(byte)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xffff_ffff
    }
}
