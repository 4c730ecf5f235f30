import NIOCore
import SMTPProtocol
import Testing

/// `SMTPReplyParser`: fixtures `bytes → replies | error | needs more`, each also fed in every two-chunk split.
struct SMTPReplyParserTests {
    enum Expected: Sendable {
        case replies([SMTPReplyParser.Reply])
        case error(SMTPReplyParser.ParseError)
    }

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var input: String
        var expected: Expected
    }

    typealias R = SMTPReplyParser.Reply
    static let cases: [Case] = [
        Case(description: "greeting", input: "220 mx.example.test ESMTP\r\n",
             expected: .replies([R(code: 220, lines: ["mx.example.test ESMTP"])])),
        Case(description: "multi-line EHLO", input: "250-mx.example.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
             expected: .replies([R(code: 250, lines: ["mx.example.test", "PIPELINING", "SIZE 1000"])])),
        Case(description: "enhanced status", input: "550 5.1.1 <x@y>: no such user\r\n",
             expected: .replies([R(code: 550, lines: ["5.1.1 <x@y>: no such user"], enhancedStatus: EnhancedStatusCode(5, 1, 1))])),
        Case(description: "enhanced status of another class is not one", input: "451 5.1.1 odd\r\n",
             expected: .replies([R(code: 451, lines: ["5.1.1 odd"])])),
        Case(description: "malformed enhanced status", input: "250 2.0 ok\r\n250 2.0.0000 ok\r\n250 2.+1.0 ok\r\n",
             expected: .replies([R(code: 250, lines: ["2.0 ok"]), R(code: 250, lines: ["2.0.0000 ok"]), R(code: 250, lines: ["2.+1.0 ok"])])),
        Case(description: "bare code", input: "354\r\n", expected: .replies([R(code: 354, lines: [""])])),
        Case(description: "bare LF", input: "250-a\n250 b\n", expected: .replies([R(code: 250, lines: ["a", "b"])])),
        Case(description: "pipelined replies", input: "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n",
             expected: .replies([R(code: 250, lines: ["2.1.0 ok"], enhancedStatus: EnhancedStatusCode(2, 1, 0)),
                                 R(code: 250, lines: ["2.1.5 ok"], enhancedStatus: EnhancedStatusCode(2, 1, 5)),
                                 R(code: 354, lines: ["go"])])),
        Case(description: "codes differ: the last line counts", input: "250-a\r\n251 b\r\n",
             expected: .replies([R(code: 251, lines: ["a", "b"])])),
        Case(description: "unfinished multi-line", input: "250-a\r\n250-b\r\n", expected: .replies([])),
        Case(description: "unfinished line", input: "250 ok", expected: .replies([])),
        Case(description: "code 1xx", input: "150 no\r\n", expected: .error(.notAReply("150 no"))),
        Case(description: "code 6xx", input: "600 no\r\n", expected: .error(.notAReply("600 no"))),
        Case(description: "text", input: "hello\r\n", expected: .error(.notAReply("hello"))),
        Case(description: "no separator", input: "250ok\r\n", expected: .error(.notAReply("250ok"))),
        Case(description: "NUL and 8-bit shown as ?", input: "2\u{0}0 \u{e9}\r\n", expected: .error(.notAReply("2?0 ??"))),
        Case(description: "overlong line", input: "250 " + String(repeating: "x", count: 5000) + "\r\n",
             expected: .error(.lineTooLong(SMTPReplyParser.maxLineBytes))),
        Case(description: "overlong without line end", input: String(repeating: "2", count: 5000),
             expected: .error(.lineTooLong(SMTPReplyParser.maxLineBytes))),
        Case(description: "too many lines", input: String(repeating: "250-x\r\n", count: 201) + "250 x\r\n",
             expected: .error(.tooManyLines(SMTPReplyParser.maxLines))),
    ]

    /// Everything `input` yields when fed as `chunks`.
    static func parse(_ chunks: [[UInt8]]) -> Expected {
        var parser = SMTPReplyParser()
        var buffer = ByteBuffer()
        var replies: [R] = []
        for chunk in chunks {
            buffer.writeBytes(chunk)
            do {
                while let reply = try parser.next(&buffer) { replies.append(reply) }
            } catch {
                return .error(error)
            }
        }
        return .replies(replies)
    }

    static func same(_ a: Expected, _ b: Expected) -> Bool {
        switch (a, b) {
        case (.replies(let x), .replies(let y)): return x == y
        case (.error(let x), .error(let y)): return x == y
        default: return false
        }
    }

    @Test(arguments: cases)
    func parses(_ row: Case) {
        let bytes = Array(row.input.utf8)
        #expect(Self.same(Self.parse([bytes]), row.expected), "\(row): got \(Self.parse([bytes]))")
        for cut in 1..<bytes.count where bytes.count < 600 {
            let split = Self.parse([Array(bytes[..<cut]), Array(bytes[cut...])])
            #expect(Self.same(split, row.expected), "\(row) split at \(cut): got \(split)")
        }
    }

    /// A parsed reply re-serialises to bytes that parse to the same reply (what the fuzz target checks).
    @Test func roundTrip() throws {
        let reply = R(code: 250, lines: ["mx.example.test", "8BITMIME", "2.0.0 x"])
        var buffer = ByteBuffer(bytes: reply.wireBytes)
        var parser = SMTPReplyParser()
        #expect(try parser.next(&buffer) == reply)
        #expect(buffer.readableBytes == 0)
    }
}
