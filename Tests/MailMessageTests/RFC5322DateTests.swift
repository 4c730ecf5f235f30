import Foundation
@testable import MailMessage
import Testing

/// The date of the Received field against Foundation's calendar, over leap years, centuries and negatives.
struct RFC5322DateTests {
    @Test(arguments: [
        (0.0, "Thu, 1 Jan 1970 00:00:00 +0000"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 +0000"),
        (1_796_677_323.9, "Mon, 7 Dec 2026 21:02:03 +0000"),
        (-1.0, "Wed, 31 Dec 1969 23:59:59 +0000"),
        (4_107_542_399, "Sun, 28 Feb 2100 23:59:59 +0000"),
        (4_107_542_400, "Mon, 1 Mar 2100 00:00:00 +0000"),
    ])
    func knownDates(seconds: Double, expected: String) {
        #expect(RFC5322Date.format(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func agreesWithTheCalendarEveryFewDays() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let formatter = DateFormatter()
        formatter.calendar = calendar
        formatter.timeZone = calendar.timeZone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, d MMM yyyy HH:mm:ss Z"
        // Every 3 days and 7,777 seconds from 1900 to 2200.
        var seconds = -2_208_988_800.0
        while seconds < 7_258_118_400 {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(RFC5322Date.format(date) == formatter.string(from: date), "\(seconds)")
            seconds += 3 * 86_400 + 7_777
        }
    }
}
