import Foundation
@testable import MailServer
import Testing

/// The watcher notices the ways renewal tools replace certificate files.
struct ConfigWatcherTests {
    let root = NSTemporaryDirectory() + "apus-watcher-" + UUID().uuidString

    func makeLayout() throws -> (config: String, archive: String, live: String) {
        let config = "\(root)/config", archive = "\(root)/archive", live = "\(root)/live"
        for dir in ["\(config)/certs/mx.example.test", archive, live] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        return (config, archive, live)
    }

    func repoint(_ link: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: link + ".new", withDestinationPath: target)
        #expect(rename(link + ".new", link) == 0)
    }

    /// certs/<name>/fullchain.pem → live/fullchain.pem → archive/fullchainN.pem: certbot re-points only
    /// the live link, so the file apus watches never changes itself.
    @Test func followsSymbolicLinks() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (config, archive, live) = try makeLayout()
        for n in 1...2 { try "certificate \(n)\n".write(toFile: "\(archive)/fullchain\(n).pem", atomically: true, encoding: .utf8) }
        try FileManager.default.createSymbolicLink(atPath: "\(live)/fullchain.pem", withDestinationPath: "\(archive)/fullchain1.pem")
        try FileManager.default.createSymbolicLink(atPath: "\(config)/certs/mx.example.test/fullchain.pem",
                                                   withDestinationPath: "\(live)/fullchain.pem")
        let watcher = ConfigWatcher(configDirectory: config)
        let before = watcher.fingerprint()
        #expect(before["\(config)/certs/mx.example.test/fullchain.pem"] != nil)
        try repoint("\(live)/fullchain.pem", to: "\(archive)/fullchain2.pem")
        #expect(watcher.fingerprint() != before)
    }

    /// A file of the same size with its modification time preserved (`cp -p` then `mv`) is still noticed.
    @Test func noticesAFileMovedIntoPlaceWithTheSameSizeAndTime() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (config, _, _) = try makeLayout()
        let path = "\(config)/certs/mx.example.test/privkey.pem"
        try "key A\n".write(toFile: path, atomically: false, encoding: .utf8)
        try "key B\n".write(toFile: path + ".new", atomically: false, encoding: .utf8)
        let modified = Date(timeIntervalSince1970: 1_700_000_000)
        for file in [path, path + ".new"] {
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: file)
        }
        let watcher = ConfigWatcher(configDirectory: config)
        let before = watcher.fingerprint()
        #expect(rename(path + ".new", path) == 0)
        #expect(watcher.fingerprint() != before)
    }
}
