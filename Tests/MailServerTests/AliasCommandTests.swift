import Config
import Directory
import Foundation
import NIOPosix
import Testing

/// `apus alias resolve ADDRESS` (DESIGN.md §3b), run as the built `apus` binary.
@Suite struct AliasCommandTests {
    /// The `apus` executable next to the test bundle (`swift build --build-tests` builds it too).
    static var apus: String? {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("apus").path]
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug/apus").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `apus` on a thread of NIO's pool: waiting for it must not block the cooperative threads that every
    /// other test shares.
    static func run(_ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
        let executable = try #require(apus, "build the apus executable first")
        return try await NIOThreadPool.singleton.runIfActive { try runBlocking(executable, arguments) }
    }

    static func runBlocking(_ executable: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func resolvePrintsOneFinalRecipientPerLine() async throws {
        let server = try await AliasServerTests.server(aliases: """
            # the seed's setup
            *: i
            i: someone@remote.test, dev
            sales: bob, typo
            list: | /usr/bin/handler "a b"
            loop: loop2
            loop2: loop
            """)
        // stop() removes the configuration: run the commands first.
        do {
            try await Self.checkResolve(config: server.configDirectory)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func checkResolve(config: String) async throws {
        var result = try await Self.run(["alias", "resolve", "--config", config, "random@example.test"])
        #expect(result.status == 0)
        #expect(result.out == "forward someone@remote.test\nlocal dev@example.test\n")

        result = try await Self.run(["alias", "resolve", "--config", config, "Bob+Tag@Example.Test"])
        #expect(result.out == "local bob@example.test\n")

        // With a catch-all, a typo in an alias reaches the catch-all.
        result = try await Self.run(["alias", "resolve", "--config", config, "sales@example.test"])
        #expect(result.out == "local bob@example.test\nforward someone@remote.test\nlocal dev@example.test\n")
        #expect(result.err == "")

        result = try await Self.run(["alias", "resolve", "--config", config, "list@example.test"])
        #expect(result.out == "pipe /usr/bin/handler \"a b\"\n")

        result = try await Self.run(["alias", "resolve", "--config", config, "x@other.example"])
        #expect(result.out == "forward x@other.example\n")

        result = try await Self.run(["alias", "resolve", "--config", config, "loop@example.test"])
        #expect(result.status == 1)
        #expect(result.err == "Error: alias loop: loop@example.test → loop2@example.test → loop@example.test\n")
    }

    @Test func resolveFailsWhenNothingMatches() async throws {
        let server = try await AliasServerTests.server(aliases: "info: bob\nsales: bob, typo\n")
        do {
            try await Self.checkFailures(config: server.configDirectory)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func checkFailures(config: String) async throws {
        var result = try await Self.run(["alias", "resolve", "--config", config, "random@example.test"])
        #expect(result.status == 1)
        #expect(result.out == "")
        #expect(result.err == "Error: <random@example.test>: no alias, user or catch-all reaches this address\n")

        result = try await Self.run(["alias", "resolve", "--config", config, "sales@example.test"])
        #expect(result.status == 0)
        #expect(result.out == "local bob@example.test\n")
        #expect(result.err == "warning: <typo@example.test> reaches no one; it is skipped\n")

        result = try await Self.run(["alias", "resolve", "--config", config, "not an address"])
        #expect(result.status == 1)
        #expect(result.err.hasPrefix("Error: \"not an address\" is not an address"))
    }
}
