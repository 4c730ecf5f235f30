// libFuzzer target for the SMTP client's reply parser (`SMTPReplyParser`).
//
// Fuzzing (separate scratch path: the sanitizer rebuilds every dependency):
//   swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product FuzzSMTPReply
//   .build-fuzz/debug/FuzzSMTPReply -max_total_time=600 Fuzz/FuzzSMTPReply/corpus
// In a normal build this program replays the files or directories given as arguments (scripts/test).
import NIOCore
import SMTPProtocol
import FuzzSupport

/// Invariants on every input: nothing crashes; the result does not depend on how the bytes are split;
/// every parsed reply re-serialises (`wireBytes`) to bytes that parse to the same reply.
func parseAll(_ chunks: [ArraySlice<UInt8>]) -> ([SMTPReplyParser.Reply], SMTPReplyParser.ParseError?) {
    var parser = SMTPReplyParser()
    var buffer = ByteBuffer()
    var replies: [SMTPReplyParser.Reply] = []
    for chunk in chunks {
        buffer.writeBytes(chunk)
        do {
            while let reply = try parser.next(&buffer) { replies.append(reply) }
        } catch {
            return (replies, error)
        }
    }
    return (replies, nil)
}

func fuzzOne(_ bytes: [UInt8]) {
    guard !bytes.isEmpty else { return }
    let whole = parseAll([bytes[...]])
    let cut = Int(bytes[0]) % (bytes.count + 1)
    let split = parseAll([bytes[..<cut], bytes[cut...]])
    if whole.0 != split.0 || whole.1 != split.1 { fatalError("reply parser depends on chunking: \(whole) vs \(split)") }
    for reply in whole.0 {
        guard reply.lines.count <= SMTPReplyParser.maxLines else { fatalError("more lines than the limit") }
        let again = parseAll([reply.wireBytes[...]])
        if again.1 == nil && again.0 != [reply] && !reply.lines.contains(where: { $0.contains("\n") || $0.contains("\r") }) {
            fatalError("reply does not round-trip: \(reply) -> \(again)")
        }
    }
}

runFuzzTarget("FuzzSMTPReply") { fuzzOne(Array($0.bindMemory(to: UInt8.self))) }
