import Testing
import Config

@Suite struct ConfigDurationTests {
    @Test(arguments: [("30s", 30), ("5m", 300), ("2h", 7200), ("5d", 432_000), ("0s", 0), ("90m", 5400)])
    func parses(text: String, seconds: Int) {
        #expect(ConfigDuration(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["", "5", "m", "5 m", "-5m", "+5m", "1.5h", "5w", "5M", "1h30m", "99999999999999999999d"])
    func rejects(text: String) {
        #expect(ConfigDuration(parsing: text) == nil)
    }

    @Test(arguments: [(0, "0s"), (45, "45s"), (60, "1m"), (5400, "90m"), (3600, "1h"), (86400, "1d"), (86401, "86401s")])
    func describes(seconds: Int, text: String) {
        #expect(ConfigDuration(seconds: seconds).description == text)
        #expect(ConfigDuration(parsing: text)?.seconds == seconds)
    }
}
