/// The TLS-RPT policy a domain publishes (RFC 8460 §3): where to send reports.
///
/// ```
/// _smtp._tls.example.net.  TXT  "v=TLSRPTv1; rua=mailto:tlsrpt@example.net,https://reports.example.net/tlsrpt"
/// ```
public struct TLSRPTRecord: Sendable, Hashable {
    /// `mailto:` addresses (without the scheme), in record order.
    public var mailto: [String]
    /// `https:` endpoints.
    public var https: [String]

    public init(mailto: [String], https: [String]) {
        self.mailto = mailto
        self.https = https
    }

    /// The record among a name's TXT strings: those not starting with `v=TLSRPTv1` are ignored, and unless
    /// exactly one remains the domain has none (§3). A record without a usable `rua` is none too.
    public static func find(in records: [String]) -> TLSRPTRecord? {
        let candidates = records.filter { $0.hasPrefix("v=TLSRPTv1") }
        guard candidates.count == 1 else { return nil }
        return parse(candidates[0])
    }

    /// `v=TLSRPTv1; rua=mailto:a@b.example,https://…` (§3: fields separated by `;`, URIs in `rua` by `,`;
    /// a `,` or `;` inside a URI is percent-encoded).
    public static func parse(_ text: String) -> TLSRPTRecord? {
        let fields = text.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
        guard fields.first == "v=TLSRPTv1" else { return nil }
        var mailto: [String] = [], https: [String] = []
        for field in fields.dropFirst() {
            let parts = field.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: " \t") == "rua" else { continue }
            for uri in parts[1].split(separator: ",").map({ $0.trimmingCharacters(in: " \t") }) {
                let lower = uri.lowercased()
                if lower.hasPrefix("mailto:") {
                    var address = String(uri.dropFirst(7))
                    if let q = address.firstIndex(of: "?") { address = String(address[..<q]) }
                    address = address.removingPercentEncodingSimple
                    if address.contains("@") { mailto.append(address) }
                } else if lower.hasPrefix("https://") {
                    https.append(uri)
                }
            }
        }
        guard !mailto.isEmpty || !https.isEmpty else { return nil }
        return TLSRPTRecord(mailto: mailto, https: https)
    }
}

extension String {
    /// `%2C` → `,` and the like; malformed escapes are kept as they are.
    var removingPercentEncodingSimple: String {
        var out: [UInt8] = []
        let bytes = Array(utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
               let v = UInt8(String(decoding: bytes[i + 1...i + 2], as: UTF8.self), radix: 16) {
                out.append(v)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
