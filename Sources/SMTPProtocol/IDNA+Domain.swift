import DNSCore

/// Whole-domain IDNA conversion for envelope addresses (RFC 6531 §3.7.3, RFC 5890 §2.3.2.1), on top of
/// DNSCore's label conversion. Apus compares and looks up domains in their lowercased A-label form
/// (`xn--bcher-kva.example`) and shows the U-label form (`bücher.example`) to people.
extension IDNA {
    /// The lowercased A-label form of a domain, or nil when a label cannot be encoded or is longer than
    /// 63 octets.
    public static func domainToASCII(_ domain: String) -> String? {
        if domain.utf8.allSatisfy({ $0 < 0x80 }) {
            // All ASCII (nearly every domain): each label as it is, lowercased, at most 63 octets.
            var labelLength = 0
            for byte in domain.utf8 {
                labelLength = byte == UInt8(ascii: ".") ? 0 : labelLength + 1
                if labelLength > 63 { return nil }
            }
            return domain.lowercased()
        }
        var labels: [String] = []
        for label in domain.split(separator: ".", omittingEmptySubsequences: false) {
            guard let ascii = try? toASCII(label: String(label)) else { return nil }
            let lower = ascii.lowercased()
            guard lower.utf8.count <= 63 else { return nil }
            labels.append(lower)
        }
        return labels.joined(separator: ".")
    }

    /// The U-label form for display; labels that do not decode are kept as they are.
    public static func domainToUnicode(_ domain: String) -> String {
        domain.split(separator: ".", omittingEmptySubsequences: false)
            .map { toUnicode(label: String($0)) }.joined(separator: ".")
    }
}
