import ConfigFiles
import Foundation
import MailQueue
import NIOPosix

/// The best transport security each destination domain has shown (DESIGN.md §4, downgrade protection).
///
/// Kept in `<data_dir>/state/tls-levels.json` as `{"example.com": "tls-verified", …}`, written durably on
/// every change. A level is only ever raised: once a domain's MX has presented a certificate we could
/// verify, mail to it is deferred rather than sent in plaintext or over unverified TLS, so an attacker who
/// strips STARTTLS from the EHLO reply gains nothing. An operator can reset a domain by editing the file
/// while the server is stopped.
public enum TLSLevel: String, Codable, Sendable, Comparable, CaseIterable {
    case plain
    case tlsUnverified = "tls-unverified"
    case tlsVerified = "tls-verified"

    var rank: Int {
        switch self {
        case .plain: return 0
        case .tlsUnverified: return 1
        case .tlsVerified: return 2
        }
    }

    public static func < (a: TLSLevel, b: TLSLevel) -> Bool { a.rank < b.rank }
}

public actor TLSLevelStore {
    public let path: String
    private var levels: [String: TLSLevel]

    public init(path: String) {
        self.path = path
        if let data = FileManager.default.contents(atPath: path),
           let decoded = try? JSONDecoder().decode([String: TLSLevel].self, from: data) {
            levels = decoded
        } else {
            levels = [:]
        }
    }

    public func level(for domain: String) -> TLSLevel { levels[domain.lowercased()] ?? .plain }

    /// Records `level` for `domain` if it is higher than what is known. Returns true when it changed. The file
    /// is written on the thread pool: this actor runs on the delivery event loop (QueueRunner.run), which an
    /// fsync must not hold.
    @discardableResult
    public func raise(_ domain: String, to level: TLSLevel) async throws -> Bool {
        let key = domain.lowercased()
        guard level > (levels[key] ?? .plain) else { return false }
        levels[key] = level
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let bytes = Array(try encoder.encode(levels))
        let path = self.path
        // One write after the other, in the order of the snapshots: the file ends with the newest.
        let previous = lastWrite
        let write = Task {
            _ = await previous?.result
            try await NIOThreadPool.singleton.runIfActive {
                try DurableFile.makeDirectories((path as NSString).deletingLastPathComponent)
                try DurableFile.write(bytes, to: path)
            }
        }
        lastWrite = write
        try await write.value
        return true
    }

    private var lastWrite: Task<Void, any Error>?

    public func all() -> [String: TLSLevel] { levels }
}
