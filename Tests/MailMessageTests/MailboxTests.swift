import Testing
@testable import MailMessage

@Suite struct MailboxTests {
    static let good: [(input: String, name: String?, address: String, header: String)] = [
        ("alice@example.com", nil, "alice@example.com", "alice@example.com"),
        ("  <alice@example.com>  ", nil, "alice@example.com", "alice@example.com"),
        ("Alice Liddell <alice@example.com>", "Alice Liddell", "alice@example.com", "Alice Liddell <alice@example.com>"),
        ("\"Liddell, Alice\" <alice@example.com>", "Liddell, Alice", "alice@example.com", "\"Liddell, Alice\" <alice@example.com>"),
        ("Liddell, Alice <alice@example.com>", "Liddell, Alice", "alice@example.com", "\"Liddell, Alice\" <alice@example.com>"),
        ("\"Say \\\"hi\\\" \\\\o/\" <a@b.example>", "Say \"hi\" \\o/", "a@b.example", "\"Say \\\"hi\\\" \\\\o/\" <a@b.example>"),
        ("\"\" <a@b.example>", nil, "a@b.example", "a@b.example"),
        ("Dr. No<no@spectre.example>", "Dr. No", "no@spectre.example", "\"Dr. No\" <no@spectre.example>"),
        ("Zoë Ünïcode <z@example.com>", "Zoë Ünïcode", "z@example.com", "=?UTF-8?B?Wm/DqyDDnG7Dr2NvZGU=?= <z@example.com>"),
        ("\"=?x?= trick\" <t@example.com>", "=?x?= trick", "t@example.com", "=?UTF-8?B?PT94Pz0gdHJpY2s=?= <t@example.com>"),
        ("o'brien+tag@mail-1.example.co.uk", nil, "o'brien+tag@mail-1.example.co.uk", "o'brien+tag@mail-1.example.co.uk"),
        ("root@localhost", nil, "root@localhost", "root@localhost"),
        ("Jörg <j@Bücher.example>", "Jörg", "j@xn--bcher-kva.example", "=?UTF-8?B?SsO2cmc=?= <j@xn--bcher-kva.example>"),
    ]

    @Test(arguments: good)
    func parses(input: String, name: String?, address: String, header: String) throws {
        let mailbox = try Mailbox.parse(input, field: "from")
        #expect(mailbox.name == name)
        #expect(mailbox.address == address)
        #expect(mailbox.headerValue == header)
        if !(name ?? "").contains("=?"), (name ?? "").utf8.allSatisfy({ $0 < 0x80 }) {
            #expect(try Mailbox.parse(mailbox.headerValue, field: "x") == mailbox)   // re-serialises
        }
    }

    static let bad: [(input: String, message: String)] = [
        ("", "empty address"),
        ("   ", "empty address"),
        ("alice", "\"alice\" is not an address (no @)"),
        ("alice@", "\"alice@\": \"\" is not a host name"),
        ("@example.com", "the local part must be 1 to 64 characters"),
        ("a..b@example.com", "atoms separated by single dots"),
        (".a@example.com", "atoms separated by single dots"),
        ("a b@example.com", "atoms separated by single dots"),
        ("a@-x.example", "is not a host name"),
        ("a@x..example", "is not a host name"),
        ("a@[192.0.2.1]", "is not a host name"),
        ("jörg@example.com", "a non-ASCII local part needs SMTPUTF8"),
        ("jörg@bücher.example", "a non-ASCII local part needs SMTPUTF8"),
        ("\(String(repeating: "x", count: 65))@example.com", "1 to 64 characters"),
        ("Alice <alice@example.com", "without a closing \">\""),
        ("Alice alice@example.com>", "without an opening \"<\""),
        ("\"Alice <alice@example.com>", "quote is not closed"),
        ("\"Al\" ice <alice@example.com>", "text after the closing quote"),
        ("Al\"ice <alice@example.com>", "must be quoted as a whole"),
        ("Alice\r\nBcc: x@y <alice@example.com>", "control character U+D"),
        ("Alice\t<alice@example.com>", "control character U+9"),
        ("A <b> <alice@example.com>", "\"<\" or \">\" in the display name"),
    ]

    @Test(arguments: bad)
    func refuses(input: String, message: String) {
        do {
            let mailbox = try Mailbox.parse(input, field: "to[2]")
            Issue.record("parsed \(input) as \(mailbox)")
        } catch let error as MIMEBuildError {
            #expect(error.field == "to[2]")
            #expect(error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func longNonASCIINameIsSplitIntoShortWordsOfWholeCharacters() throws {
        let name = "é" + String(repeating: "日本語のなまえ", count: 6)   // 2 + 3n bytes: byte-wise cuts would split characters
        let mailbox = try Mailbox.parse("\(name) <n@example.jp>", field: "from")
        let words = mailbox.headerValue.split(separator: " ").dropLast()
        #expect(words.count > 2)
        var decoded: [UInt8] = []
        for word in words {
            #expect(word.count <= EncodedWord.maxLength)
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            let bytes = try #require(Base64Lines.decode(String(word.dropFirst(10).dropLast(2))))
            #expect(String(validating: bytes, as: UTF8.self) != nil, "a word splits a character")
            decoded += bytes
        }
        #expect(String(decoding: decoded, as: UTF8.self) == name)
    }
}

/// Test helper: base64 without Foundation's options.
enum Base64Lines {
    static func decode(_ s: String) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = [], buffer = 0, bits = 0
        for c in s.utf8 where c != UInt8(ascii: "=") && c != 0x0D && c != 0x0A {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            buffer = buffer << 6 | v
            bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8(buffer >> bits & 0xFF)) }
        }
        return out
    }
}
