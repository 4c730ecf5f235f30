// FuzzDNS: libFuzzer target for the DNS message decoder (DNSCore).
//
// Property: decoding never traps; and "if it parses, it re-serialises": a decoded message encodes to
// bytes that decode to the same message, and its text forms can be produced.
//
// Fuzz:   swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product FuzzDNS
//         .build-fuzz/debug/FuzzDNS -max_total_time=180 Fuzz/FuzzDNS/corpus
// Replay: swift run FuzzDNS Fuzz/FuzzDNS/corpus [more files or directories]   (normal build, no libFuzzer)
import DNSCore
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

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    fuzzOne(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
})
#else
/// Without libFuzzer: run every file given (directories: every file inside) through `fuzzOne`.
func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

func files(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [path] }
    defer { closedir(dir) }
    var out: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name == "." || name == ".." { continue }
        out += files(path + "/" + name)
    }
    return out.sorted()
}

var count = 0
for argument in CommandLine.arguments.dropFirst() {
    for path in files(argument) {
        guard let bytes = readFile(path) else {
            print("FuzzDNS: cannot read \(path)")
            exit(2)
        }
        fuzzOne(bytes)
        count += 1
    }
}
print("FuzzDNS: \(count) inputs replayed, no failure")
#endif
