import NIOCore
import Testing
@testable import SMTPProtocol

/// Every way of cutting the input in two or three pieces must decode the same.
func chunkings(_ bytes: [UInt8]) -> [[[UInt8]]] {
    var result: [[[UInt8]]] = [[bytes], bytes.map { [$0] }]
    for i in 0...bytes.count {
        result.append([Array(bytes[..<i]), Array(bytes[i...])])
        if bytes.count <= 40 {
            for j in i...bytes.count {
                result.append([Array(bytes[..<i]), Array(bytes[i..<j]), Array(bytes[j...])])
            }
        }
    }
    return result
}

struct LineFramerTests {
    static func frame(_ chunks: [[UInt8]], max: Int) -> [String] {
        var framer = LineFramer(maxLineBytes: max)
        var buffer = ByteBuffer()
        var out: [String] = []
        for chunk in chunks {
            buffer.writeBytes(chunk)
            while let event = framer.next(&buffer) {
                switch event {
                case .line(let l): out.append(String(decoding: l.readableBytesView, as: UTF8.self))
                case .tooLong: out.append("<too long>")
                }
            }
        }
        return out
    }

    static let cases: [(String, Int, [String])] = [
        ("EHLO a\r\nMAIL FROM:<>\r\n", 100, ["EHLO a", "MAIL FROM:<>"]),
        ("NOOP\nQUIT\r\n", 100, ["NOOP", "QUIT"]),
        ("\r\n", 100, [""]),
        ("partial", 100, []),
        ("0123456789\r\nok\r\n", 10, ["0123456789", "ok"]),
        ("0123456789A\r\nok\r\n", 10, ["<too long>", "ok"]),
        ("\(String(repeating: "x", count: 50))\r\nNOOP\r\n", 10, ["<too long>", "NOOP"]),
    ]

    @Test(arguments: cases)
    func framesLinesUnderAnyChunking(_ input: String, _ max: Int, _ expected: [String]) {
        for chunks in chunkings(Array(input.utf8)) {
            #expect(Self.frame(chunks, max: max) == expected, "chunks: \(chunks.map(\.count))")
        }
    }

    @Test func boundedMemoryForEndlessLine() {
        var framer = LineFramer(maxLineBytes: 100)
        var buffer = ByteBuffer()
        for _ in 0..<1000 {
            buffer.writeBytes([UInt8](repeating: 65, count: 1000))
            #expect(framer.next(&buffer) == nil)
            #expect(buffer.readableBytes <= 1101)
        }
        buffer.writeString("\r\nNOOP\r\n")
        #expect(framer.next(&buffer) == .tooLong)
        guard case .line(let l) = framer.next(&buffer) else { Issue.record("no line"); return }
        #expect(String(buffer: l) == "NOOP")
    }
}

struct DataDecoderTests {
    struct Case: Sendable, CustomStringConvertible {
        var input: String
        var message: String?     // nil: the decoder must not find an end
        var violation: DataDecoder.Violation?
        var rest = ""
        var description: String { input.debugDescription }
    }

    static let cases: [Case] = [
        Case(input: "Subject: x\r\n\r\nbody\r\n.\r\n", message: "Subject: x\r\n\r\nbody\r\n"),
        Case(input: ".\r\n", message: ""),
        Case(input: "a\r\n..b\r\n.\r\n", message: "a\r\n.b\r\n"),
        Case(input: "..\r\n.\r\n", message: ".\r\n"),
        Case(input: ".x\r\n.\r\n", message: "x\r\n"),
        Case(input: "a\r\n.\r\nQUIT\r\n", message: "a\r\n", rest: "QUIT\r\n"),
        Case(input: "a.\r\n.\r\n", message: "a.\r\n"),
        // SMTP smuggling variants: none of them ends the message, and a bare line end is noted.
        Case(input: "a\n.\r\nMAIL FROM:<x@y>\r\n", message: nil),
        Case(input: "a\r\n.\nMAIL FROM:<x@y>\r\n", message: nil),
        Case(input: "a\n.\nMAIL FROM:<x@y>\r\n", message: nil),
        Case(input: "a\r.\rMAIL FROM:<x@y>\r\n", message: nil),
        Case(input: "a\n.\r\nsmuggled\r\n.\r\n", message: "a\n.\r\nsmuggled\r\n", violation: .bareLF),
        Case(input: "a\r\n.\nsmuggled\r\n.\r\n", message: "a\r\n\nsmuggled\r\n", violation: .bareLF),
        Case(input: "a\r.\rsmuggled\r\n.\r\n", message: "a\r.\rsmuggled\r\n", violation: .bareCR),
        Case(input: "bare\rcr\r\n.\r\n", message: "bare\rcr\r\n", violation: .bareCR),
        Case(input: "bare\nlf\r\n.\r\n", message: "bare\nlf\r\n", violation: .bareLF),
        Case(input: "x\r\n.\r\r\n.\r\n", message: "x\r\n\r\r\n", violation: .bareCR),
    ]

    @Test(arguments: cases)
    func decodesUnderAnyChunking(_ c: Case) {
        for chunks in chunkings(Array(c.input.utf8)) {
            var decoder = DataDecoder(maxBytes: 1000)
            var buffer = ByteBuffer()
            var outcome: DataDecoder.Outcome?
            for chunk in chunks {
                buffer.writeBytes(chunk)
                if outcome == nil { outcome = decoder.decode(&buffer) }
            }
            if let expected = c.message {
                #expect(outcome.map { String(buffer: $0.message) } == expected, "chunks \(chunks.map(\.count))")
                #expect(outcome?.violation == c.violation)
                #expect(String(buffer: buffer) == c.rest)
            } else {
                #expect(outcome == nil, "found an end in \(c.input.debugDescription)")
            }
        }
    }

    /// A large message's bytes are taken out as they are decoded (the shell writes them to disk): what was
    /// taken plus the final outcome is the message, under any chunking; size and violations count it whole.
    @Test(arguments: cases.filter { $0.message != nil })
    func takingStoredBytesAsTheyComeLosesNothing(_ c: Case) {
        for chunks in chunkings(Array(c.input.utf8)) {
            var decoder = DataDecoder(maxBytes: 1000)
            var buffer = ByteBuffer()
            var taken = ""
            var outcome: DataDecoder.Outcome?
            for chunk in chunks where outcome == nil {
                buffer.writeBytes(chunk)
                outcome = decoder.decode(&buffer)
                if outcome == nil {
                    let held = decoder.storedBytes
                    let piece = decoder.takeStored(reserving: 8)
                    #expect(piece.readableBytes == held && decoder.storedBytes == 0)
                    taken += String(buffer: piece)
                }
            }
            #expect(outcome.map { taken + String(buffer: $0.message) } == c.message, "chunks \(chunks.map(\.count))")
            #expect(outcome?.size == c.message?.utf8.count)
            #expect(outcome?.violation == c.violation)
        }
    }

    @Test func oversizedIsReadToTheEndButNotStored() {
        var decoder = DataDecoder(maxBytes: 10)
        var buffer = ByteBuffer(string: String(repeating: "y", count: 5000) + "\r\n.\r\nNOOP\r\n")
        let outcome = decoder.decode(&buffer)
        #expect(outcome?.oversized == true)
        #expect(outcome?.size == 5002)
        #expect(outcome?.message.readableBytes == 0)
        #expect(String(buffer: buffer) == "NOOP\r\n")
    }
}
