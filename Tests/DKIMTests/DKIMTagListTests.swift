import Testing
@testable import DKIM

struct DKIMTagListTests {
    struct Valid: Sendable, CustomStringConvertible {
        var input: String
        var tags: [(String, String)]
        var description: String { input }
    }

    static let valid: [Valid] = [
        Valid(input: "v=1; a=rsa-sha256", tags: [("v", "1"), ("a", "rsa-sha256")]),
        Valid(input: "v=1;a=rsa-sha256;", tags: [("v", "1"), ("a", "rsa-sha256")]),
        Valid(input: " v = 1 ;\r\n\ta=  x  ", tags: [("v", "1"), ("a", "x")]),
        Valid(input: "p=", tags: [("p", "")]),
        Valid(input: "b=abc\r\n def", tags: [("b", "abc\r\n def")]),
        Valid(input: "x_1=a=b", tags: [("x_1", "a=b")]),
        Valid(input: "a=1;; b=2", tags: [("a", "1"), ("b", "2")]),
        Valid(input: "", tags: []),
        Valid(input: "n=caf\u{e9}", tags: [("n", "caf\u{e9}")]),
    ]

    @Test(arguments: valid)
    func parsesValid(_ c: Valid) throws {
        let list = try DKIMTagList.parse(c.input)
        #expect(list.tags.map(\.name) == c.tags.map(\.0))
        #expect(list.tags.map(\.value) == c.tags.map(\.1))
    }

    static let invalid: [(String, DKIMTagListError)] = [
        ("v=1; bogus", .missingEquals(tagSpec: "bogus")),
        ("bogus", .missingEquals(tagSpec: "bogus")),
        ("v=1; v=2", .duplicateTag("v")),
        ("1a=x", .invalidTagName("1a")),
        ("a-b=x", .invalidTagName("a-b")),
        ("=x", .invalidTagName("")),
        ("a=\u{1}", .invalidCharacter(1)),
    ]

    @Test(arguments: invalid)
    func rejectsInvalid(_ input: String, _ error: DKIMTagListError) {
        #expect(throws: error) { try DKIMTagList.parse(input) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: DKIMTagListError.invalidUTF8) { try DKIMTagList.parse([0x61, 0x3D, 0xFF]) }
    }

    @Test func rejectsOverlong() {
        let long = "a=" + String(repeating: "x", count: DKIMLimits.maxTagListBytes)
        #expect(throws: DKIMTagListError.tooLong(long.utf8.count)) { try DKIMTagList.parse(long) }
    }

    @Test func encodeParseRoundTrip() throws {
        let list = try DKIMTagList.parse("v=1; a=rsa-sha256; d=example.com; h=from:to")
        #expect(try DKIMTagList.parse(list.encoded) == list)
    }
}
