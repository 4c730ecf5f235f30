// libFuzzer target for the SPF record parser (RFC 7208 §12) and the macro expander (§7).
//
// Fuzzing (separate scratch path: the sanitizer rebuilds every dependency):
//   swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product FuzzSPF
//   .build-fuzz/debug/FuzzSPF -max_total_time=300 Fuzz/FuzzSPF/corpus
// In a normal build this program replays the files or directories given as arguments through the
// same function (scripts/test runs the corpus that way), so the target always compiles.
import DNSCore
import Foundation
import SPF
import FuzzSupport

let fuzzContext = SPFMacroContext(sender: "strong-bad@email.example.com", domain: "email.example.com",
                                  ip: IPAddress("192.0.2.3")!, helo: "mx.example.org",
                                  validatedDomain: "mx.example.org", receiver: "mx.example.net",
                                  timestamp: 1_767_225_600)

/// Invariants checked on every input: nothing crashes; a parsed record re-serialises to text that parses
/// to an equal record; a parsed macro-string round-trips the same way, and its expansion as a domain is
/// a valid name of at most 253 characters or nil.
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    // 1. Record parser, with and without the version prefix supplied.
    for input in [bytes, Array("v=spf1 ".utf8) + bytes] {
        if let record = try? SPFRecord.parse(input) {
            let text = record.description
            guard let again = try? SPFRecord.parse(text), again == record else {
                fatalError("record does not round-trip: \(String(decoding: input, as: UTF8.self)) -> \(text)")
            }
        }
    }

    // 2. Macro strings: domain-spec letters, explanation text; expansion must be bounded.
    let text = Substring(String(decoding: bytes, as: UTF8.self))
    if let string = try? SPFMacroString(parsing: text, allowSpaces: true) {
        guard let again = try? SPFMacroString(parsing: Substring(string.description), allowSpaces: true),
              again == string else { fatalError("macro-string does not round-trip: \(text)") }
        let expanded = string.expand(fuzzContext)
        if expanded.utf8.count > 64 * bytes.count + 64 { fatalError("expansion out of proportion") }
    }
    if let spec = try? SPFDomainSpec(parsing: text) {
        if let name = spec.macroString.expandDomain(fuzzContext), name.utf8.count > SPFLimits.domainNameLength {
            fatalError("expanded domain longer than 253: \(name)")
        }
    }
    return 0
}

runFuzzTarget("FuzzSPF") { _ = fuzzOne($0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
