import Directory
import Foundation
@testable import MailServer
import Testing

/// DESIGN.md §3c: API keys created or revoked while the server runs are picked up within a few seconds.
struct APIKeyReloadTests {
    @Test func watcherSeesTheAPIKeysFile() throws {
        let root = NSTemporaryDirectory() + "apus-keys-watch-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/domains/example.test", withIntermediateDirectories: true)
        let watcher = ConfigWatcher(configDirectory: root)
        let before = watcher.fingerprint()
        try "# none yet\n".write(toFile: "\(root)/domains/example.test/api-keys", atomically: true, encoding: .utf8)
        let after = watcher.fingerprint()
        #expect(after["\(root)/domains/example.test/api-keys"] != nil)
        #expect(after != before)
    }

    @Test func keysCreatedAndRevokedWhileRunningArePickedUp() async throws {
        let server = try await TestServer()
        let (secret, key) = APIKeySecret.generate(domain: "example.test", name: "live", senders: [], dailyLimit: nil, now: Date())
        #expect(server.server.directory.current.apiKey(id: key.id) == nil)
        try APIKeyFileEditor.add(key, configDirectory: server.configDirectory)
        let added = await Self.waitFor(seconds: 5) { server.server.directory.current.apiKey(id: key.id) != nil }
        #expect(added, "the new key was not loaded within 5 s")
        #expect(server.server.directory.current.apiKey(id: key.id)?.verify(secret) == true)

        try APIKeyFileEditor.revoke(id: key.id, configDirectory: server.configDirectory)
        let removed = await Self.waitFor(seconds: 5) { server.server.directory.current.apiKey(id: key.id) == nil }
        #expect(removed, "the revoked key was still loaded after 5 s")
        await server.stop()
    }

    static func waitFor(seconds: Int, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }
}
