import DNSCore
import Testing

struct PunycodeTests {
    /// RFC 3492 §7.1 samples and common IDN pairs.
    static let pairs: [(unicode: String, punycode: String)] = [
        ("bücher", "bcher-kva"),
        ("münchen", "mnchen-3ya"),
        ("mañana", "maana-pta"),
        ("españa", "espaa-rta"),
        ("日本語", "wgv71a119e"),
        ("他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"),                        // RFC 3492 7.1 (B)
        ("ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"),                          // (A)
        ("3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"),                             // (L)
        ("安室奈美恵-with-SUPER-MONKEYS", "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n"), // (M)
        ("-> $1.00 <-", "-> $1.00 <--"),                                            // (S)
    ]

    @Test(arguments: pairs)
    func encodes(_ pair: (unicode: String, punycode: String)) {
        #expect(Punycode.encode(pair.unicode) == pair.punycode)
    }

    @Test(arguments: pairs)
    func decodes(_ pair: (unicode: String, punycode: String)) {
        #expect(Punycode.decode(pair.punycode) == pair.unicode)
    }

    @Test(arguments: ["bcher-kv!", "99999999999999999999", "a-", "zzzzzzzzzzzzzzzzzzzzzzzzzzzz"])
    func rejectsInvalid(_ text: String) {
        // Either nil or a round-trippable string: never a crash.
        if let decoded = Punycode.decode(text) { #expect(Punycode.encode(decoded) != nil) }
    }

    @Test(arguments: [
        ("bücher.example", "xn--bcher-kva.example"),
        ("Bücher.Example.", "xn--bcher-kva.Example"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("日本語.jp", "xn--wgv71a119e.jp"),
        ("plain.example", "plain.example"),
    ])
    func idnaNames(_ input: String, _ aLabels: String) throws {
        let name = try DNSName(input)
        #expect(name.description == aLabels)
        #expect(name == (try DNSName(aLabels)))
    }

    @Test(arguments: [("xn--bcher-kva.example", "bücher.example"), ("xn--wgv71a119e.jp", "日本語.jp"),
                      ("xn--invalid-!.example", "xn--invalid-!.example")])
    func unicodeDescription(_ aLabels: String, _ unicode: String) throws {
        #expect(try DNSName(aLabels).unicodeDescription == unicode)
    }
}
