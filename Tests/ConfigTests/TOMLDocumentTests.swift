import Testing
@testable import Config

@Suite struct TOMLDocumentTests {
    /// Valid documents and the value found at a key path.
    static let valid: [(text: String, path: [String], expected: TOMLValue)] = [
        ("a = 1", ["a"], .integer(1)),
        ("a = -1_000", ["a"], .integer(-1000)),
        ("a = +42", ["a"], .integer(42)),
        ("a = 0", ["a"], .integer(0)),
        ("a = true # yes", ["a"], .boolean(true)),
        ("a = false", ["a"], .boolean(false)),
        ("a = \"x\\ty\\n\\\"q\\\"\\\\\"", ["a"], .string("x\ty\n\"q\"\\")),
        ("a = \"\\u00e9\\U0001F600\"", ["a"], .string("é😀")),
        ("a = 'C:\\path\\no\"escape'", ["a"], .string("C:\\path\\no\"escape")),
        ("a = \"# not a comment\"", ["a"], .string("# not a comment")),
        ("\"quoted key\" = 1", ["quoted key"], .integer(1)),
        ("'lit.key' = 1", ["lit.key"], .integer(1)),
        ("a = []", ["a"], .array([])),
        ("a = [1, 2,]", ["a"], .array([.integer(1), .integer(2)])),
        ("a = [\n  \"x\", # first\n  # own line\n  \"y\",\n]", ["a"], .array([.string("x"), .string("y")])),
        ("a = [[1], ['b']]", ["a"], .array([.array([.integer(1)]), .array([.string("b")])])),
        ("[t]\nk = 'v'", ["t", "k"], .string("v")),
        ("[ t . \"u v\" ]\nk = 2", ["t", "u v", "k"], .integer(2)),
        ("[a.b]\nx = 1\n[a]\ny = 2", ["a", "y"], .integer(2)),
        ("\u{FEFF}a = 1\r\nb = 2\r\n", ["b"], .integer(2)),
        ("# only a comment\n\n   \t\na=1", ["a"], .integer(1)),
    ]

    @Test(arguments: valid)
    func parsesValid(text: String, path: [String], expected: TOMLValue) throws {
        let doc = try TOMLDocument.parse(text, path: "t.toml")
        var table = doc.root
        for key in path.dropLast() {
            guard case .table(let sub)? = table[key]?.value else { Issue.record("no table \(key)"); return }
            table = sub
        }
        #expect(table[path.last!]?.value == expected)
    }

    /// Invalid documents: the error's line and a part of its reason.
    static let invalid: [(text: String, line: Int, reason: String)] = [
        ("a = 1\na = 2", 2, "duplicate key a (first set on line 1)"),
        ("[t]\na = 1\n[t]", 3, "duplicate table [t]"),
        ("[t]\nk = 1\n[t.k]", 3, "\"k\" is already set to a value on line 2"),
        ("a = 1.5", 1, "floating-point numbers are not supported"),
        ("a = 1e3", 1, "floating-point numbers are not supported"),
        ("a = 1979-05-27", 1, "dates and times are not supported"),
        ("a = 0x1F", 1, "only decimal integers are supported"),
        ("a = 01", 1, "invalid integer 01"),
        ("a = 1__0", 1, "invalid integer 1__0"),
        ("a = 99999999999999999999", 1, "invalid integer"),
        ("a = { b = 1 }", 1, "inline tables"),
        ("a = \"\"\"x\"\"\"", 1, "multi-line strings"),
        ("[[t.u]]", 1, "only [[name]] at the top level"),
        ("t = 1\n[[t]]", 2, "\"t\" is already set on line 1"),
        ("[[t]]\na = 1\na = 2", 3, "duplicate key a in [[t]]"),
        ("a.b = 1", 1, "dotted keys are not supported"),
        ("a = \"open", 1, "unterminated string"),
        ("\n\na = 'open\nb = 1", 3, "unterminated string"),
        ("a = \"bad \\x escape\"", 1, "invalid escape \"\\x\""),
        ("a = \"\\u12\"", 1, "\\u needs 4 hex digits"),
        ("a = \"\\uD800\"", 1, "not a Unicode scalar value"),
        ("a = [1, 2", 1, "unterminated array"),
        ("a = [1 2]", 1, "expected \",\" or \"]\""),
        ("a = 1 b = 2", 1, "after the value"),
        ("a = yes", 1, "invalid value yes; a string needs quotes"),
        ("a =", 1, "expected a value"),
        ("a 1", 1, "expected \"=\" after the key a"),
        ("= 1", 1, "expected a key"),
        ("[t\na = 1", 1, "expected \"]\""),
        ("a = 1\r", 1, "carriage return"),
        ("a = \"tab\u{01}\"", 1, "control character U+0001"),
    ]

    @Test(arguments: invalid)
    func rejectsInvalid(text: String, line: Int, reason: String) {
        do {
            _ = try TOMLDocument.parse(text, path: "/etc/apus/apus.toml")
            Issue.record("parsed: \(text)")
        } catch let error as ConfigError {
            #expect(error.line == line, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
            #expect(error.description.hasPrefix("/etc/apus/apus.toml:\(line): "))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// `[[webhooks]]`: each header appends a table to a top-level array; a later `[x]` header leaves it.
    @Test func arraysOfTables() throws {
        let doc = try TOMLDocument.parse("[[w]]\nurl = 'a'\n\n[[w]]\nurl = 'b'\nevents = ['x']\n[t]\nk = 1\n", path: "f")
        guard case .array(let items) = doc.root["w"]?.value, items.count == 2,
              case .table(let first) = items[0], case .table(let second) = items[1] else {
            Issue.record("w is not an array of two tables: \(String(describing: doc.root["w"]))")
            return
        }
        #expect(first["url"]?.value == .string("a"))
        #expect(second["url"]?.value == .string("b"))
        #expect(second["events"]?.line == 6)
        #expect(doc.root["t"].flatMap { if case .table(let t) = $0.value { t["k"]?.value } else { nil } } == .integer(1))
    }

    @Test func keysKeepFileOrderAndLines() throws {
        let doc = try TOMLDocument.parse("z = 1\n\na = 2\n[t]\nm = 3", path: "x")
        #expect(doc.root.keys == ["z", "a", "t"])
        #expect(doc.root.line(of: ["a"]) == 3)
        #expect(doc.root.line(of: ["t"]) == 4)
        #expect(doc.root.line(of: ["t", "m"]) == 5)
        #expect(doc.root.line(of: ["t", "nope"]) == 4)
    }

    @Test(arguments: ["", "a\"b", "back\\slash", "tab\tnl\ncr\r", "ctl\u{01}\u{7F}", "é ünïcode 😀"])
    func quotedStringsRoundTrip(text: String) throws {
        let doc = try TOMLDocument.parse("k = \(TOMLWriter.quote(text))", path: "x")
        #expect(doc.root["k"]?.value == .string(text))
    }
}
