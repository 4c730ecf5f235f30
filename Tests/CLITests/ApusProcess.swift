import Foundation
import NIOPosix
import Testing

/// Runs the built `apus` executable (`swift build --build-tests` builds it beside the test bundle) and other
/// programs, on a thread of NIO's pool so that waiting does not block the cooperative threads.
enum ApusProcess {
    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    static var apus: String? {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("apus").path]
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug/apus").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `apus ARGUMENTS`, with `input` on standard input (empty: /dev/null-like, closed at once).
    static func run(_ arguments: [String], input: String = "") async throws -> Result {
        let executable = try #require(apus, "build the apus executable first (swift build --build-tests)")
        return try await runProgram(executable, arguments, input: input)
    }

    static func runProgram(_ executable: String, _ arguments: [String], input: String = "") async throws -> Result {
        try await NIOThreadPool.singleton.runIfActive { try runBlocking(executable, arguments, input: input) }
    }

    static func runBlocking(_ executable: String, _ arguments: [String], input: String) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe(), out = Pipe(), err = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = err
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        // Read standard error on another thread: a full pipe must not stall the child.
        let errData = ErrorBox()
        let reader = Thread { errData.data = err.fileHandleForReading.readDataToEndOfFile(); errData.done.signal() }
        reader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        errData.done.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, out: String(decoding: stdout, as: UTF8.self),
                      err: String(decoding: errData.data, as: UTF8.self))
    }

    final class ErrorBox: @unchecked Sendable {
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }

    /// A new empty directory under the system's temporary directory.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "apus-cli-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Sets top-level or table keys of CONFIG/apus.toml by name (`mx`, `admin`, `ca_file`…) to TOML values
    /// (`["127.0.0.1:2525"]`, `[]`, `"/path"`): the first line `key = …` that `apus init` wrote is replaced;
    /// `table.key` (`acme.ca_file`) replaces the first one after `[table]`.
    static func setConfigKeys(_ values: [(key: String, value: String)], configDirectory: String) throws {
        let path = "\(configDirectory)/apus.toml"
        var toml = try String(contentsOfFile: path, encoding: .utf8)
        for (qualified, value) in values {
            let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
            let key = parts.last!
            var searchStart = toml.startIndex
            if parts.count == 2 {
                let header = try #require(toml.range(of: "\n[\(parts[0])]\n"), "no [\(parts[0])] in \(path)")
                searchStart = header.upperBound
            }
            let found = try #require(toml.range(of: "(?m)^\(key) = .*$", options: .regularExpression,
                                                range: searchStart..<toml.endIndex), "no \(qualified) in \(path)")
            toml.replaceSubrange(found, with: "\(key) = \(value)")
        }
        try toml.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// `key = ["127.0.0.1:PORT"]` for each listener given a port, `key = []` for nil.
    static func loopbackListeners(_ ports: [(key: String, port: Int?)]) -> [(key: String, value: String)] {
        ports.map { ($0.key, $0.port.map { "[\"127.0.0.1:\($0)\"]" } ?? "[]") }
    }

    /// The permission bits of a file.
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
