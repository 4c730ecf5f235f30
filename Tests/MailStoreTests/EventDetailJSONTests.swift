import Foundation
@testable import MailStore
import Testing

/// The hand-written encoder of an event's `detail` (`SQLiteMailStore.encode`): whatever goes in comes back
/// from a standard JSON parser, keys sorted.
struct EventDetailJSONTests {
    @Test(arguments: [
        [:],
        ["source": "mx", "size": "4096"],
        ["reply": "550 5.1.1 <a@b.example>: \"no such user\" \\ here"],
        ["diagnosis": "line one\nline two\r\n\ttab \u{1} \u{1F} end"],
        ["original_recipient": "Ünïcødé+tag@exämple.test", "emoji": "📬", "slash": "a/b"],
        ["": "empty key", "k": ""],
    ] as [[String: String]])
    func roundTrips(_ detail: [String: String]) throws {
        let text = SQLiteMailStore.encode(detail)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(parsed == detail)
        #expect(SQLiteMailStore.decode(text) == detail)
        if detail.count > 1 {   // keys in order, as the old encoder wrote them
            let keys = detail.keys.sorted()
            let positions = keys.map { text.range(of: "\"\($0)\":")!.lowerBound }
            #expect(positions == positions.sorted())
        }
    }
}
