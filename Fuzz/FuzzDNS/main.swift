// FuzzDNS: libFuzzer target for the DNS message decoder (DNSCore).
//
// Property: decoding never traps; and "if it parses, it re-serialises": a decoded message encodes to
// bytes that decode to the same message, and its text forms can be produced.
//
// Fuzz:   swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product FuzzDNS
//         .build-fuzz/debug/FuzzDNS -max_total_time=180 Fuzz/FuzzDNS/corpus
// Replay: swift run FuzzDNS Fuzz/FuzzDNS/corpus [more files or directories]   (normal build, no libFuzzer)
import DNSCore
import FuzzSupport
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fuzzOne(_ bytes: [UInt8]) {
    guard let message = try? DNSMessage(decoding: bytes) else { return }
    let again: DNSMessage
    do {
        again = try DNSMessage(decoding: message.encoded())
    } catch {
        fatalError("re-encoded message does not decode: \(error)\n\(message)")
    }
    guard again == message else { fatalError("round trip changed the message:\n\(message)\n\(again)") }
    for record in message.answers + message.authorities + message.additionals {
        _ = record.description
        _ = record.name.unicodeDescription
    }
    if let question = message.questions.first {
        _ = DNSResponseOutcome(message: message, name: question.name, type: question.type)
    }
}

runFuzzTarget("FuzzDNS") { fuzzOne(Array($0.bindMemory(to: UInt8.self))) }
