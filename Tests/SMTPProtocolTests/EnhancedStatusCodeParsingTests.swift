import NIOCore
import SMTPProtocol
import Testing

/// `EnhancedStatusCode(parsing:)` reads class.subject.detail over the bytes: the same codes as the
/// split-and-`Int` parser it replaced, except signs, which `Int("+1")` used to accept and RFC 3463 does not.
struct EnhancedStatusCodeParsingTests {
    /// The former parser, with the sign cases RFC 3463 excludes taken out.
    static func reference(_ text: Substring) -> EnhancedStatusCode? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isWholeNumber) && $0.allSatisfy(\.isASCII) }),
              let k = Int(parts[0]), [2, 4, 5].contains(k),
              let s = Int(parts[1]), (0...999).contains(s),
              let d = Int(parts[2]), (0...999).contains(d) else { return nil }
        return EnhancedStatusCode(k, s, d)
    }

    @Test(arguments: [
        ("2.0.0", EnhancedStatusCode(2, 0, 0)), ("5.7.26", EnhancedStatusCode(5, 7, 26)),
        ("4.4.999", EnhancedStatusCode(4, 4, 999)), ("5.001.1", EnhancedStatusCode(5, 1, 1)),
        ("3.0.0", nil), ("1.2.3", nil), ("5.1", nil), ("5.1.1.1", nil), ("5..1", nil), ("5.1.", nil), (".5.1", nil),
        ("5.1.1234", nil), ("5.1.1a", nil), ("+5.1.1", nil), ("5.-1.1", nil), ("5.1.+1", nil), ("", nil),
        ("55.1.1", nil), ("5.1.1 ", nil), ("５.1.1", nil),
    ] as [(String, EnhancedStatusCode?)])
    func table(text: String, expected: EnhancedStatusCode?) {
        #expect(EnhancedStatusCode(parsing: Substring(text)) == expected)
        #expect(Self.reference(Substring(text)) == expected)
    }

    @Test func randomTextAgreesWithTheReference() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789.245.+-a ")
        for _ in 0..<20_000 {
            let text = String((0..<Int.random(in: 0...9, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            #expect(EnhancedStatusCode(parsing: Substring(text)) == Self.reference(Substring(text)), "\(text)")
        }
    }
}

/// The bytes a reply carries for its status code are `description`'s.
struct EnhancedStatusCodeWireTests {
    @Test(arguments: [(2, 0, 0), (5, 7, 26), (4, 4, 999), (5, 100, 10), (5, 1000, 1), (2, -1, 0)])
    func wireEqualsDescription(klass: Int, subject: Int, detail: Int) {
        let code = EnhancedStatusCode(klass, subject, detail)
        var buffer = ByteBuffer()
        code.write(into: &buffer)
        #expect(String(buffer: buffer) == code.description)
    }
}
