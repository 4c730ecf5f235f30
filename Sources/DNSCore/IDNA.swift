/// IDNA label conversion (RFC 5891 §4.4, §5.5). A simplified mapping: labels are lowercased (Unicode
/// default case mapping) before Punycode; full UTS #46 mapping and the IDNA2008 code-point tables are not
/// applied, which is enough for the names mail software sees in practice.
public enum IDNA {
    static let acePrefix = "xn--"

    /// A U-label (or an ASCII label, returned lowercased-unchanged) to its A-label.
    public static func toASCII(label: String) throws(DNSNameError) -> String {
        let lower = label.lowercased()
        if lower.unicodeScalars.allSatisfy(\.isASCII) { return label }
        guard let encoded = Punycode.encode(lower) else { throw .invalidIDNA }
        return acePrefix + encoded
    }

    /// An A-label to its U-label; anything else (or invalid Punycode) is returned unchanged.
    public static func toUnicode(label: String) -> String {
        guard label.lowercased().hasPrefix(acePrefix),
              let decoded = Punycode.decode(String(label.dropFirst(acePrefix.count)))
        else { return label }
        return decoded
    }
}
