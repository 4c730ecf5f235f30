// libFuzzer target for the SMTP command parser, the line framer and the DATA decoder.
//
// Fuzzing (separate scratch path: the sanitizer rebuilds every dependency):
//   swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product FuzzSMTP
//   .build-fuzz/debug/FuzzSMTP -max_total_time=300 Fuzz/FuzzSMTP/corpus
// In a normal build this program replays the files or directories given as arguments through the
// same function (scripts/test runs the corpus that way), so the target always compiles.
import Foundation
import NIOCore
import SMTPProtocol
import FuzzSupport

/// Invariants checked on every input: nothing crashes; a parsed MAIL/RCPT address re-encodes and
/// parses to the same value; the DATA decoder finds the same end whatever the chunking.
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    // 1. Command parser with round trip of paths.
    if case .success(let command) = SMTPCommand.parse(bytes) {
        switch command {
        case .mail(.mailbox(let m), let p):
            let again = SMTPCommand.parse(Array("MAIL FROM:<\(m)>\(p.smtputf8 ? " SMTPUTF8" : "")".utf8))
            guard case .success(.mail(.mailbox(let m2), _)) = again, m2.localPart == m.localPart,
                  m2.domain.lookupKey == m.domain.lookupKey else {
                fatalError("MAIL path does not round-trip: \(m) -> \(again)")
            }
        case .rcpt(.mailbox(let m)):
            let again = SMTPCommand.parse(Array("RCPT TO:<\(m)>".utf8))
            guard case .success(.rcpt(.mailbox(let m2))) = again, m2.localPart == m.localPart else {
                fatalError("RCPT path does not round-trip: \(m) -> \(again)")
            }
        default:
            break
        }
    }

    // 2. Line framer: bounded output whatever the input.
    var framer = LineFramer(maxLineBytes: 64)
    var buffer = ByteBuffer(bytes: bytes)
    while let event = framer.next(&buffer) {
        if case .line(let l) = event, l.readableBytes > 64 { fatalError("framer returned an overlong line") }
    }

    // 3. DATA decoder: whole input vs. split at the first byte's value.
    var whole = DataDecoder(maxBytes: 1 << 20)
    var all = ByteBuffer(bytes: bytes)
    let a = whole.decode(&all)
    var split = DataDecoder(maxBytes: 1 << 20)
    let cut = Int(bytes[0]) % (bytes.count + 1)
    var first = ByteBuffer(bytes: bytes[..<cut])
    var b = split.decode(&first)
    var left = first.readableBytes + (bytes.count - cut)   // bytes not consumed by the decoder
    if b == nil {
        var second = ByteBuffer(bytes: bytes[cut...])
        b = split.decode(&second)
        left = second.readableBytes
    }
    if a != b { fatalError("DATA decoder depends on chunking") }
    if a != nil && all.readableBytes != left { fatalError("DATA decoder consumed differently") }
    return 0
}

runFuzzTarget("FuzzSMTP") { _ = fuzzOne($0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
