// What every fuzz target does when it is built without libFuzzer (no -DFUZZING): replay the files given
// as arguments (directories: every file inside, recursively, in name order) through its fuzz function,
// so `scripts/test` checks the corpora on every run.
import Foundation

/// Replays the corpus named by `arguments` through `fuzzOne` and returns the process exit status:
/// 0 when every input ran, 2 when a path is missing or unreadable. A crash is the fuzz function's own.
public func replayCorpus(_ name: String, arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                         _ fuzzOne: ([UInt8]) -> Void) -> Int32 {
    var count = 0
    for argument in arguments {
        guard FileManager.default.fileExists(atPath: argument) else {
            FileHandle.standardError.write(Data("\(name): \(argument): no such file\n".utf8))
            return 2
        }
        for path in corpusFiles(argument) {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("\(name): cannot read \(path)\n".utf8))
                return 2
            }
            fuzzOne([UInt8](data))
            count += 1
        }
    }
    print("\(name): replayed \(count) inputs, no crash")
    return 0
}

/// `path` itself, or every file below it when it is a directory, sorted.
func corpusFiles(_ path: String) -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
        return [path]
    }
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    return names.flatMap { corpusFiles("\(path)/\($0)") }
}
