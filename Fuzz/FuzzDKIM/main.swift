// libFuzzer target for the DKIM tag-list, DKIM-Signature and key-record parsers, and the message splitter.
//
// Fuzz build (shares its scratch path with the other fuzz targets):
//   swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product FuzzDKIM
//   .build-fuzz/debug/FuzzDKIM -max_total_time=120 Fuzz/FuzzDKIM/corpus
// Normal build: `FuzzDKIM FILE|DIR...` replays inputs (e.g. the corpus or a crash file) without libFuzzer.
//
// Properties checked: nothing traps; a parsed tag list re-parses from its encoding to the same list.
import DKIM
import Foundation
import FuzzSupport

func fuzzOne(_ bytes: [UInt8]) {
    if let list = try? DKIMTagList.parse(bytes) {
        let again = try? DKIMTagList.parse(list.encoded)
        precondition(again == list, "tag list does not round-trip: \(list.encoded)")
        _ = try? DKIMSignature.parse(list)
    }
    _ = try? DKIMSignature.parse(bytes)
    _ = try? DKIMKeyRecord.parse(String(decoding: bytes, as: UTF8.self))
    if let message = try? DKIMMessage(bytes) {
        for field in message.headers {
            _ = DKIMCanonicalization.relaxed.canonicalizeHeader(field.raw)
        }
        _ = DKIMCanonicalization.relaxed.canonicalizeBody(message.body)
        _ = DKIMCanonicalization.simple.canonicalizeBody(message.body)
    }
}

runFuzzTarget("FuzzDKIM") { fuzzOne(Array($0.bindMemory(to: UInt8.self))) }
