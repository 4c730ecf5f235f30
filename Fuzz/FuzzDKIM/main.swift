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

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ cb: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

func fuzzRaw(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { fuzzOne([]); return 0 }
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { fuzzRaw(data, size) }

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { fuzzRaw($0, $1) }))
#else
exit(replayCorpus("FuzzDKIM") { fuzzOne($0) })
#endif
