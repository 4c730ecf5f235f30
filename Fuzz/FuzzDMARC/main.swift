// libFuzzer target for the DMARC record parser and the Public Suffix List lookups.
//
// Fuzzing (separate scratch path: the sanitizer rebuilds every dependency):
//   swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product FuzzDMARC
//   .build-fuzz/debug/FuzzDMARC -max_total_time=300 Fuzz/FuzzDMARC/corpus
// In a normal build this program replays the files or directories given as arguments through the
// same function (scripts/test runs the corpus that way), so the target always compiles.
import DMARC
import Foundation
import FuzzSupport

let psl = PublicSuffixList.bundled

/// Invariants checked on every input: nothing crashes; a parsed record re-serialises to text that parses to
/// the same record; a record that parses is recognised as DMARC; the organizational domain of a valid name
/// is a suffix of it, has the same organizational domain, and aligns with the name under relaxed mode.
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)

    // 1. Record parser with round trip.
    if case .success(let record) = Result(catching: { () throws(DMARCRecordError) in try DMARCRecord(parsing: text) }) {
        guard DMARCRecord.isDMARCRecord(text) else { fatalError("parsed a record not starting with v=DMARC1: \(text)") }
        var expected = record
        expected.impliedPolicy = false
        let encoded = record.description
        // The re-serialised form spells out an implied `p=none`, so a record near the length limit can come
        // back longer than the parser accepts (found by a 10-minute run): compare only what fits.
        guard encoded.utf8.count <= DMARCLimits.maxRecordLength else { return 0 }
        guard let again = try? DMARCRecord(parsing: encoded), again == expected else {
            fatalError("record does not round-trip: \(text) -> \(encoded)")
        }
    }

    // 2. Public Suffix List on the same bytes as a domain name.
    if let org = psl.organizationalDomain(of: text) {
        guard let normalized = PublicSuffixList.normalized(text)?.joined(separator: "."),
              normalized == org || normalized.hasSuffix("." + org) else {
            fatalError("organizational domain \(org) is not a suffix of \(text)")
        }
        guard psl.organizationalDomain(of: org) == org else { fatalError("organizational domain of \(org) differs") }
        guard DMARCAlignment(publicSuffixList: psl).aligned(text, with: org, mode: .relaxed) else {
            fatalError("\(text) does not align with its organizational domain \(org)")
        }
    }
    return 0
}

runFuzzTarget("FuzzDMARC") { _ = fuzzOne($0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
