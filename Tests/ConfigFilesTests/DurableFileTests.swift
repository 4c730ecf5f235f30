import ConfigFiles
import Foundation
import Testing

/// The one durable writer: write replaces, replace keeps the old mode, create never replaces.
@Suite struct DurableFileTests {
    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "apus-durable-" + UUID().uuidString
        try DurableFile.makeDirectories(dir)
        return dir
    }

    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }

    @Test func writeReplaceCreate() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/file"
        try DurableFile.write(Array("one".utf8), to: path, mode: 0o640)
        #expect(try DurableFile.read(path) == Array("one".utf8))
        #expect(Self.mode(path) == 0o640)
        chmod(path, 0o604)
        try DurableFile.replace(Array("two".utf8), at: path, defaultMode: 0o600)
        #expect(try DurableFile.read(path) == Array("two".utf8))
        #expect(Self.mode(path) == 0o604)                                   // kept
        #expect(try DurableFile.create(Array("three".utf8), at: path, mode: 0o600) == false)
        #expect(try DurableFile.read(path) == Array("two".utf8))            // not replaced
        #expect(try DurableFile.create(Array("new".utf8), at: dir + "/secret", mode: 0o600))
        #expect(Self.mode(dir + "/secret") == 0o600)
        #expect(try DurableFile.read(dir + "/missing") == nil)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test func failuresNameTheOperationAndPath() {
        #expect(throws: ConfigFile.Failure.self) { try DurableFile.write([1], to: "/nonexistent-apus-dir/x") }
        do { try DurableFile.write([1], to: "/nonexistent-apus-dir/x") } catch {
            // As root the directory is looked at first (whose files these should be); else the temp file fails.
            let text = "\(error)"
            #expect((text.hasPrefix("stat /nonexistent-apus-dir") || text.hasPrefix("open /nonexistent-apus-dir/.tmp-"))
                    && text.hasSuffix("No such file or directory"), "\(text)")
        }
    }
}
