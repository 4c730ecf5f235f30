/// Punycode (RFC 3492) and the IDNA A-label / U-label conversion of domain names (RFC 5890 §2.3.2.1).
///
/// Apus compares and looks up domains in their A-label form (`xn--bcher-kva.example`) and shows
/// the U-label form (`bücher.example`) to people. This is the Punycode transform and the label-wise
/// conversion only; IDNA2008 validity tables are not applied, which is what SMTP servers need
/// (RFC 6531 §3.7.3 leaves domain validation to the DNS).
public enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
    private static let initialBias = 72, initialN = 128

    private static func adapt(_ delta: Int, _ numPoints: Int, _ first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / numPoints
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    private static func digit(_ d: Int) -> Character {
        Character(Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22)))
    }

    /// Encodes one label's code points (RFC 3492 §6.3). Returns nil on overflow.
    public static func encode(_ input: String) -> String? {
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = String(input.unicodeScalars.filter { $0.isASCII }.map(Character.init))
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
            let (mul, o1) = (m - n).multipliedReportingOverflow(by: handled + 1)
            if o1 { return nil }
            delta += mul
            n = m
            for c in scalars {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }

    /// Decodes one label (RFC 3492 §6.2). Returns nil for malformed input.
    public static func decode(_ input: String) -> String? {
        let bytes = Array(input.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        var output: [Int] = []
        var rest = bytes[...]
        if let lastDash = bytes.lastIndex(of: UInt8(ascii: "-")) {
            output = bytes[..<lastDash].map(Int.init)
            rest = bytes[(lastDash + 1)...]
        }
        var n = initialN, i = 0, bias = initialBias
        var idx = rest.startIndex
        while idx < rest.endIndex {
            let oldi = i
            var w = 1, k = base
            while true {
                guard idx < rest.endIndex else { return nil }
                let c = rest[idx]; idx += 1
                let d: Int
                switch c {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): d = Int(c) - 97
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): d = Int(c) - 65
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int(c) - 22
                default: return nil
                }
                let (dw, o1) = d.multipliedReportingOverflow(by: w)
                if o1 { return nil }
                let (ni, o2) = i.addingReportingOverflow(dw)
                if o2 { return nil }
                i = ni
                let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                if d < t { break }
                let (nw, o3) = w.multipliedReportingOverflow(by: base - t)
                if o3 { return nil }
                w = nw
                k += base
            }
            bias = adapt(i - oldi, output.count + 1, oldi == 0)
            n += i / (output.count + 1)
            i %= output.count + 1
            guard n <= 0x10FFFF, Unicode.Scalar(UInt32(n)) != nil else { return nil }
            output.insert(n, at: i)
            i += 1
        }
        var s = ""
        for v in output {
            guard let u = Unicode.Scalar(UInt32(v)) else { return nil }
            s.unicodeScalars.append(u)
        }
        return s
    }
}

public enum IDNA {
    /// The A-label form of a domain, lowercased: `Bücher.Example` → `xn--bcher-kva.example`.
    /// Returns nil when a label cannot be encoded or is longer than 63 octets.
    public static func toASCII(_ domain: String) -> String? {
        var labels: [String] = []
        for label in domain.split(separator: ".", omittingEmptySubsequences: false) {
            let lower = label.lowercased()
            if lower.unicodeScalars.allSatisfy(\.isASCII) {
                labels.append(lower)
            } else {
                guard let encoded = Punycode.encode(lower) else { return nil }
                labels.append("xn--" + encoded)
            }
            if labels.last!.utf8.count > 63 { return nil }
        }
        return labels.joined(separator: ".")
    }

    /// The U-label form for display: `xn--bcher-kva.example` → `bücher.example`. Labels that do
    /// not decode are kept as they are.
    public static func toUnicode(_ domain: String) -> String {
        domain.split(separator: ".", omittingEmptySubsequences: false).map { label -> String in
            let lower = label.lowercased()
            if lower.hasPrefix("xn--"), let decoded = Punycode.decode(String(lower.dropFirst(4))) {
                return decoded
            }
            return String(label)
        }.joined(separator: ".")
    }
}
