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

/// The decoder copies runs of ordinary bytes at once; this checks it against the byte-at-a-time state machine
/// it replaced (kept here as the specification) on random inputs rich in CR, LF and dots, under random
/// chunkings and size limits that fall inside runs.
struct DataDecoderEquivalenceTests {
    static func reference(_ input: [UInt8], maxBytes: Int) -> (DataDecoder.Outcome?, consumed: Int) {
        enum S { case lineStart, midLine, sawCR, dot, dotCR }
        var state = S.lineStart, out: [UInt8] = [], size = 0, violation: DataDecoder.Violation?
        func emit(_ b: UInt8) { size += 1; if size <= maxBytes { out.append(b) } }
        func note(_ v: DataDecoder.Violation) { if violation == nil { violation = v } }
        for (i, b) in input.enumerated() {
            switch state {
            case .lineStart where b == 46: state = .dot
            case .lineStart, .midLine:
                if b == 13 { state = .sawCR } else { if b == 10 { note(.bareLF) }; emit(b); state = .midLine }
            case .sawCR:
                if b == 10 { emit(13); emit(10); state = .lineStart }
                else if b == 13 { note(.bareCR); emit(13) }
                else { note(.bareCR); emit(13); emit(b); state = .midLine }
            case .dot:
                if b == 13 { state = .dotCR } else { if b == 10 { note(.bareLF) }; emit(b); state = .midLine }
            case .dotCR:
                if b == 10 {
                    let oversized = size > maxBytes
                    return (DataDecoder.Outcome(message: ByteBuffer(bytes: oversized ? [] : out), size: size,
                                                oversized: oversized, violation: violation), i + 1)
                }
                note(.bareCR); emit(13)
                if b == 13 { state = .sawCR } else { if b == 10 { note(.bareLF) }; emit(b); state = .midLine }
            }
        }
        return (nil, input.count)
    }

    @Test func matchesTheByteAtATimeDecoder() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [13, 10, 46, 97, 98, 32, 13, 10]
        for _ in 0..<3000 {
            var input = (0..<Int.random(in: 0...60, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            if Bool.random(using: &rng) { input += Array("\r\n.\r\nNOOP\r\n".utf8) }
            let maxBytes = Int.random(in: 0...40, using: &rng)
            let (expected, consumed) = Self.reference(input, maxBytes: maxBytes)
            var decoder = DataDecoder(maxBytes: maxBytes)
            var buffer = ByteBuffer()
            var outcome: DataDecoder.Outcome?
            var rest = input[...]
            while outcome == nil, !rest.isEmpty {
                let n = Int.random(in: 1...max(1, rest.count), using: &rng)
                buffer.writeBytes(rest.prefix(n))
                rest = rest.dropFirst(n)
                outcome = decoder.decode(&buffer)
            }
            #expect(outcome == expected, "input \(input) max \(maxBytes)")
            #expect(input.count - rest.count - buffer.readableBytes == consumed, "input \(input)")
        }
    }
}
