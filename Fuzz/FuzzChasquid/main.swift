// libFuzzer target for the protobuf text-format reader behind `apus import chasquid` (chasquid.conf, users
// files, queue items).
//
// Fuzzing (separate scratch path: the sanitizer rebuilds every dependency):
//   swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product FuzzChasquid
//   .build-fuzz/debug/FuzzChasquid -max_total_time=300 Fuzz/FuzzChasquid/corpus
// In a normal build this program replays the files or directories given as arguments through the same
// function (scripts/test runs the corpus that way), so the target always compiles.
import Chasquid
import FuzzSupport

/// Invariants checked on every input: nothing crashes; a parsed document re-encodes to text that parses to
/// the same fields; every error names a line within the input; the typed readers never crash either.
func fuzzOne(_ bytes: [UInt8]) {
    let lineCount = bytes.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
    do {
        let fields = try ProtoText.parse(bytes)
        let text = ProtoText.encode(fields)
        guard let again = try? ProtoText.parse(text), again.map(\.withoutLines) == fields.map(\.withoutLines) else {
            fatalError("does not round-trip: \(String(decoding: bytes, as: UTF8.self)) -> \(text)")
        }
    } catch {
        if error.line < 1 || error.line > lineCount { fatalError("error on line \(error.line) of \(lineCount): \(error)") }
    }
    if let config = try? ChasquidConfig.parse(bytes) {
        _ = config.apusConfig(machineHostname: "fuzz.example", dataDir: "/var/lib/apus")
    }
    if let users = try? ChasquidUserDB.parse(bytes) {
        _ = users.apusUsersFile(domain: "example.com", aliases: .init(), source: "users")
    }
    _ = try? ChasquidQueueItem.parse(bytes)
    _ = ChasquidAliases.apusAliasesFile(String(decoding: bytes, as: UTF8.self), domain: "example.com", source: "aliases")
}

runFuzzTarget("FuzzChasquid") { fuzzOne(Array($0)) }
