import Foundation
import Testing
@testable import Directory

@Suite struct APIKeysFileTests {
    static let h1 = "sha256:" + String(repeating: "ab", count: 32)
    static let h2 = "sha256:" + String(repeating: "01", count: 32)

    @Test func parsesEveryFieldAndComment() throws {
        let text = """
            # API keys of example.com

            3f9c0a51d2e4  \(Self.h1)  sender=billing@example.com sender=News@Example.com name=Billing%20app%20%25 daily-limit=5000 created=2026-12-05T21:30:00Z
            \t000000000001\t\(Self.h2)\r
              # indented comment
            """
        let keys = try APIKeysFile.parse(text, domain: "Example.com")
        #expect(keys == [
            APIKey(id: "3f9c0a51d2e4", domain: "example.com", hash: Self.h1, senders: ["billing@example.com", "News@Example.com"],
                   name: "Billing app %", dailyLimit: 5000, created: Date(timeIntervalSince1970: 1_796_506_200)),
            APIKey(id: "000000000001", domain: "example.com", hash: Self.h2),
        ])
    }

    @Test func renderParsesBack() throws {
        let keys = [
            APIKey(id: "3f9c0a51d2e4", domain: "example.com", hash: Self.h1, senders: ["a@example.com", "b@example.com"],
                   name: "Zoë's  app\t100%", dailyLimit: 1, created: Date(timeIntervalSince1970: 1_796_506_200)),
            APIKey(id: "000000000001", domain: "example.com", hash: Self.h2),
        ]
        let text = APIKeysFile.render(keys)
        #expect(text == """
            3f9c0a51d2e4  \(Self.h1)  sender=a@example.com  sender=b@example.com  name=Zoë's%20%20app%09100%25  daily-limit=1  created=2026-12-05T21:30:00Z
            000000000001  \(Self.h2)

            """)
        #expect(try APIKeysFile.parse(APIKeysFile.header(domain: "example.com") + text, domain: "example.com") == keys)
    }

    static let bad: [(text: String, message: String)] = [
        ("3f9c0a51d2e4", "P:1: expected `ID  sha256:HASH"),
        ("3F9C0A51D2E4 \(h1)", "P:1: \"3F9C0A51D2E4\" is not a key id (12 lowercase hex characters)"),
        ("3f9c0a51d2e \(h1)", "is not a key id"),
        ("\n3f9c0a51d2e4 sha256:abcd", "P:2: key 3f9c0a51d2e4: \"sha256:abcd\" is not sha256: and 64 lowercase hex characters"),
        ("3f9c0a51d2e4 \(h1.uppercased())", "is not sha256: and 64 lowercase hex"),
        ("3f9c0a51d2e4 \(h1) sender=x@example.org", "P:1: key 3f9c0a51d2e4: sender x@example.org is not in example.com; a key sends only for its own domain"),
        ("3f9c0a51d2e4 \(h1) sender=nobody", "sender \"nobody\" is not an address"),
        ("3f9c0a51d2e4 \(h1) daily-limit=0", "daily-limit=0 is not a positive whole number"),
        ("3f9c0a51d2e4 \(h1) daily-limit=ten", "daily-limit=ten is not a positive whole number"),
        ("3f9c0a51d2e4 \(h1) daily-limit=1 daily-limit=2", "daily-limit= given twice"),
        ("3f9c0a51d2e4 \(h1) name=a name=b", "name= given twice"),
        ("3f9c0a51d2e4 \(h1) name=100%", "name=100% is not percent-encoded text"),
        ("3f9c0a51d2e4 \(h1) created=yesterday", "created=yesterday is not an RFC 3339 time"),
        ("3f9c0a51d2e4 \(h1) colour=blue", "unknown field \"colour\" (expected sender, name, daily-limit or created)"),
        ("3f9c0a51d2e4 \(h1) loose", "\"loose\" is not name=value"),
        ("3f9c0a51d2e4 \(h1)\n3f9c0a51d2e4 \(h2)", "P:2: duplicate key id 3f9c0a51d2e4 (first on line 1)"),
    ]

    @Test(arguments: bad)
    func reportsErrors(text: String, message: String) {
        do {
            let keys = try APIKeysFile.parse(text, domain: "example.com", path: "P")
            Issue.record("parsed: \(keys)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func errorsWithoutAPathNameTheLine() {
        #expect(throws: DirectoryError(path: nil, line: 3, reason: "key 3f9c0a51d2e4: daily-limit=-1 is not a positive whole number")) {
            try APIKeysFile.parse("#\n\n3f9c0a51d2e4 \(Self.h1) daily-limit=-1", domain: "example.com")
        }
    }
}
