// The one entry point of every fuzz target. Built with libFuzzer (`-sanitize=fuzzer -DFUZZING`, see
// docs/fuzzing.md) it hands control to libFuzzer's driver; built normally it replays the corpus given as
// arguments (`scripts/test` does this on every run). libFuzzer's FuzzerMain.o needs the symbol
// LLVMFuzzerTestOneInput even though LLVMFuzzerRunDriver is given the callback (SWIFT-NOTES.md), so it is
// defined here, once per fuzz binary, and calls the target's function.
import Foundation

/// The function of the fuzz target this binary was built for (set once, before any input runs).
nonisolated(unsafe) private var fuzzTarget: ((UnsafeRawBufferPointer) -> Void)?

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzTarget?(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}
#endif

/// Runs `fuzzOne` under libFuzzer (FUZZING) or over the corpus named by the arguments, then exits.
public func runFuzzTarget(_ name: String, _ fuzzOne: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
    fuzzTarget = fuzzOne
    #if FUZZING
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv) { LLVMFuzzerTestOneInput($0, $1) })
    #else
    exit(replayCorpus(name) { bytes in bytes.withUnsafeBytes { fuzzOne($0) } })
    #endif
}
