/// A span of time in `apus.toml`: a string `"30s"`, `"5m"`, `"2h"`, `"5d"`, or an integer number of seconds.
public struct ConfigDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int

    public init(seconds: Int) { self.seconds = seconds }

    public static func seconds(_ n: Int) -> ConfigDuration { ConfigDuration(seconds: n) }
    public static func minutes(_ n: Int) -> ConfigDuration { ConfigDuration(seconds: n * 60) }
    public static func hours(_ n: Int) -> ConfigDuration { ConfigDuration(seconds: n * 3600) }
    public static func days(_ n: Int) -> ConfigDuration { ConfigDuration(seconds: n * 86400) }

    /// As a Swift `Duration`, for clocks and timeouts.
    public var duration: Duration { .seconds(seconds) }

    private static let units: [(suffix: Character, seconds: Int)] = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]

    /// Parses `"<digits><unit>"` with unit s, m, h or d. Returns nil for anything else.
    public init?(parsing text: String) {
        guard let unitChar = text.last, let unit = Self.units.first(where: { $0.suffix == unitChar }) else { return nil }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let n = Int(digits) else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: unit.seconds)
        guard !overflow else { return nil }
        self.seconds = product
    }

    /// The shortest exact form: `"5d"`, `"90m"`, `"45s"`.
    public var description: String {
        if seconds == 0 { return "0s" }
        for unit in Self.units where seconds % unit.seconds == 0 {
            return "\(seconds / unit.seconds)\(unit.suffix)"
        }
        return "\(seconds)s"
    }

    public static func < (lhs: ConfigDuration, rhs: ConfigDuration) -> Bool { lhs.seconds < rhs.seconds }
}
