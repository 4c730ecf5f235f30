@testable import DNSCore
import Testing

/// Dotted-quad parsing over the bytes, checked against the Character-wise parser it replaced.
struct IPv4ParsingTests {
    static func reference(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                  !(part.count > 1 && part.hasPrefix("0")), let value = UInt8(part) else { return nil }
            out.append(value)
        }
        return out
    }

    @Test(arguments: [
        ("127.0.0.1", [127, 0, 0, 1]), ("0.0.0.0", [0, 0, 0, 0]), ("255.255.255.255", [255, 255, 255, 255]),
        ("192.0.2.10", [192, 0, 2, 10]),
        ("256.0.0.1", nil), ("1.2.3", nil), ("1.2.3.4.5", nil), ("01.2.3.4", nil), ("1.2.3.00", nil), ("1..3.4", nil),
        ("1.2.3.4.", nil), (".1.2.3.4", nil), ("1.2.3.1000", nil), ("+1.2.3.4", nil), ("1.2.3.4 ", nil), ("", nil),
        ("١.2.3.4", nil), ("::1", nil),
    ] as [(String, [UInt8]?)])
    func table(text: String, expected: [UInt8]?) {
        #expect(IPAddress.parseIPv4(Substring(text)) == expected)
        #expect(Self.reference(Substring(text)) == expected)
    }

    @Test func randomTextAgreesWithTheReference() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789..2550+ a")
        for _ in 0..<20_000 {
            let text = String((0..<Int.random(in: 0...16, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            #expect(IPAddress.parseIPv4(Substring(text)) == Self.reference(Substring(text)), "\(text)")
        }
    }
}
