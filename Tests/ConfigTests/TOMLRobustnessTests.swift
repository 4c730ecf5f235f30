import Testing
@testable import Config

/// Damaged input never crashes the parser: it parses or throws a `ConfigError` with a line in the file.
@Suite struct TOMLRobustnessTests {
    static let sample: String = {
        var config = ApusConfig(hostname: "mx.example.com")
        config.senders = ["alice@example.com": ["info@example.com", "*@example.org"]]
        config.dns.servers = [ListenAddress(host: "::1", port: 5353)]
        return config.render() + "k = \"\\u00e9\\t\" # é\n[x]\n'q' = [\n 1,\n 'two', # c\n]\n"
    }()

    static func check(_ text: String) {
        do {
            _ = try ApusConfig.parse(text, path: "f")
        } catch let error as ConfigError {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            #expect(error.path == "f")
            if let line = error.line { #expect(line >= 1 && line <= lines + 1, "\(error)") }
        } catch {
            Issue.record("not a ConfigError: \(error)")
        }
    }

    @Test func everyPrefix() {
        let scalars = Array(Self.sample.unicodeScalars)
        for n in 0...scalars.count {
            Self.check(String(String.UnicodeScalarView(scalars[..<n])))
        }
    }

    @Test func randomDamage() {
        var rng = SplitMix64(seed: 2026)
        let scalars = Array(Self.sample.unicodeScalars)
        let alphabet = Array("[]{}\"'\\=#,.:+-_0123456789 \t\nabcuU\r\u{0}é".unicodeScalars)
        for _ in 0..<2000 {
            var damaged = scalars
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<damaged.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: damaged[i] = alphabet.randomElement(using: &rng)!
                case 1: damaged.remove(at: i)
                default: damaged.insert(alphabet.randomElement(using: &rng)!, at: i)
                }
            }
            Self.check(String(String.UnicodeScalarView(damaged)))
        }
    }
}

/// A small seeded generator, so a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
