/// Go's `time.ParseDuration` syntax, which chasquid uses for `give_up_send_after`: a sequence of decimal
/// numbers with units, `"20h"`, `"72h30m"`, `"1.5h"`, `"90s"`, `"300ms"` (units ns, us, µs, ms, s, m, h).
public enum GoDuration {
    static let units: [(name: String, seconds: Double)] = [
        ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
    ]

    /// The duration in whole seconds (rounded), or nil when `text` is not a Go duration.
    public static func seconds(_ text: String) -> Int? {
        var rest = Substring(text)
        var negative = false
        if rest.hasPrefix("-") || rest.hasPrefix("+") { negative = rest.first == "-"; rest = rest.dropFirst() }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            // The longest unit name that matches ("ms" before "m").
            guard let unit = units.filter({ String(unitText) == $0.name }).first else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.seconds
            guard total < 1e12 else { return nil }
        }
        let seconds = Int(total.rounded())
        return negative ? -seconds : seconds
    }
}
