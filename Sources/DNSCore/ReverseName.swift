/// Reverse-mapping names: IPv4 `d.c.b.a.in-addr.arpa` (RFC 1035 §3.5) and IPv6 nibbles in reverse order
/// under `ip6.arpa` (RFC 3596 §2.5).
public enum ReverseName {
    /// The reverse name of an address.
    public static func name(for ip: IPAddress) -> DNSName {
        let digits = Array("0123456789abcdef".utf8)
        var labels: [[UInt8]]
        if ip.isIPv4 {
            labels = ip.bytes.reversed().map { Array(String($0).utf8) }
            labels += [Array("in-addr".utf8), Array("arpa".utf8)]
        } else {
            labels = ip.bytes.reversed().flatMap { [[digits[Int($0 & 0xF)]], [digits[Int($0 >> 4)]]] }
            labels += [Array("ip6".utf8), Array("arpa".utf8)]
        }
        return DNSName(validatedLabels: labels)
    }

    /// The address a reverse name stands for, or nil if it is not a complete reverse name.
    public static func address(of name: DNSName) -> IPAddress? {
        let text = name.lowercased.labels.map { String(decoding: $0, as: UTF8.self) }
        if text.count == 6, text.suffix(2) == ["in-addr", "arpa"] {
            return IPAddress(text.prefix(4).reversed().joined(separator: "."))
        }
        guard text.count == 34, text.suffix(2) == ["ip6", "arpa"] else { return nil }
        var nibbles: [UInt8] = []
        for label in text.prefix(32).reversed() {
            guard label.count == 1, let value = UInt8(label, radix: 16) else { return nil }
            nibbles.append(value)
        }
        return IPAddress(bytes: stride(from: 0, to: 32, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] })
    }
}
