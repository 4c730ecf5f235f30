import Config
import Foundation
import MailServer
import MailStore
import Testing

/// `[events] keep`: events older than that are gone once the server has started; newer ones stay.
struct EventRetentionTests {
    @Test func oldEventsArePrunedAtStart() async throws {
        let server = try await TestServer(configure: { $0.events.keep = .days(30) }, prepare: { configDirectory in
            let data = (configDirectory as NSString).deletingLastPathComponent + "/data"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let store = try SQLiteMailStore(path: data + "/apus.sqlite")
            let now = Date()
            let events = [
                NewEvent(type: .queued, time: now.addingTimeInterval(-31 * 86_400), messageID: "old", recipient: "a@x.test", domain: "example.test"),
                NewEvent(type: .queued, time: now.addingTimeInterval(-29 * 86_400), messageID: "kept", recipient: "a@x.test", domain: "example.test"),
            ]
            // `prepare` is synchronous: wait for the two events to be written before the server opens the file.
            let done = DispatchSemaphore(value: 0)
            Task { _ = try? await store.record(events); done.signal() }
            done.wait()
        })
        do {
            var ids: [String] = []
            for _ in 0..<100 {
                ids = try await server.server.eventStore.events(EventQuery()).map { $0.event.messageID }
                if ids == ["kept"] { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(ids == ["kept"])
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
