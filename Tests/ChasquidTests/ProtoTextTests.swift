import Testing
@testable import Chasquid

/// The text-format reader: a table of inputs and the fields they give, or the line and reason they fail with.
@Suite struct ProtoTextTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var input: String
        var expected: Result
        var testDescription: String { input.debugDescription }

        enum Result: Sendable {
            case fields(String)     // ProtoText.encode of the expected fields
            case error(line: Int, containing: String)
        }
    }

    static let cases: [Case] = [
        .init(input: "", expected: .fields("")),
        .init(input: "# only a comment\n\n", expected: .fields("")),
        .init(input: "hostname: \"mx.example.com\"", expected: .fields("hostname: \"mx.example.com\"\n")),
        .init(input: "a: 1 b: -2; c: 0x1F, d: true", expected: .fields("a: 1\nb: -2\nc: 0x1F\nd: true\n")),
        .init(input: "s: \"a\" 'b'\n  \"c\"", expected: .fields("s: \"abc\"\n")),
        .init(input: #"s: "\x9e\x87+`\101\n\t\\\"\'\u00e9""#, expected: .fields(#"s: "\236\207+`A\012\011\\\"'\303\251""# + "\n")),
        .init(input: "s: \"Qޱ\"", expected: .fields(#"s: "Q\336\261""# + "\n")),
        .init(input: "m { k: 1 } n: < k: 2 > o: {}", expected: .fields("m: {\n  k: 1\n}\nn: {\n  k: 2\n}\no: {\n}\n")),
        .init(input: "l: [\":25\", \":2525\"] e: []", expected: .fields("l: \":25\"\nl: \":2525\"\n")),
        .init(input: "users: {\n  key: \"a\"\n  value: {\n    scrypt: {\n      logN: 14\n    }\n  }\n}\n",
              expected: .fields("users: {\n  key: \"a\"\n  value: {\n    scrypt: {\n      logN: 14\n    }\n  }\n}\n")),
        // Failures name the line.
        .init(input: "a: 1\nb: \"open\n", expected: .error(line: 2, containing: "not closed before the end of the line")),
        .init(input: "a: 1\nb: \"open", expected: .error(line: 2, containing: "end of file inside a string")),
        .init(input: "m {\n k: 1\n", expected: .error(line: 3, containing: "missing \"}\"")),
        .init(input: "a 1", expected: .error(line: 1, containing: "expected \":\" after \"a\"")),
        .init(input: "\n\n: 1", expected: .error(line: 3, containing: "expected a field name")),
        .init(input: "a:", expected: .error(line: 1, containing: "\"a\" has no value")),
        .init(input: "a: }", expected: .error(line: 1, containing: "\"a\" has no value")),
        .init(input: "s: \"\\q\"", expected: .error(line: 1, containing: "unknown escape \"\\q\"")),
        .init(input: "s: \"\\777\"", expected: .error(line: 1, containing: "more than one byte")),
        .init(input: "s: \"\\xZ\"", expected: .error(line: 1, containing: "not followed by a hex digit")),
        .init(input: "s: \"\\u12\"", expected: .error(line: 1, containing: "needs 4 hex digits")),
        .init(input: "l: [1 2]", expected: .error(line: 1, containing: "expected \",\" or \"]\"")),
        .init(input: String(repeating: "m {", count: 70), expected: .error(line: 1, containing: "nested more than 64")),
    ]

    @Test(arguments: cases) func parse(_ c: Case) {
        switch c.expected {
        case .fields(let encoded):
            do {
                let fields = try ProtoText.parse(c.input)
                #expect(ProtoText.encode(fields) == encoded)
                // Re-parsing the encoding gives the same fields.
                #expect(try ProtoText.parse(ProtoText.encode(fields)).map(\.withoutLines) == fields.map(\.withoutLines))
            } catch {
                Issue.record("unexpected error \(error)")
            }
        case .error(let line, let text):
            #expect(throws: ProtoTextError.self) { try ProtoText.parse(c.input) }
            do { _ = try ProtoText.parse(c.input) } catch {
                #expect(error.line == line, "\(error)")
                #expect(error.reason.contains(text), "\(error)")
            }
        }
    }

    @Test func fieldsKeepTheirLines() throws {
        let fields = try ProtoText.parse("a: 1\n\n# comment\nm {\n  k: \"x\"\n}\nl: [1,\n 2]\n")
        #expect(fields.map(\.line) == [1, 4, 7, 8])
        guard case .message(let inner) = fields[1].value else { Issue.record("not a message"); return }
        #expect(inner.map(\.line) == [5])
    }
}
