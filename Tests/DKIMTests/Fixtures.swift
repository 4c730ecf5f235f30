import Foundation

/// Test data under `Fixtures/` (copied from the shared conformance vectors; licences in Fixtures/LICENSES.md).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ path: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(path).path) else {
            fatalError("missing fixture \(path)")
        }
        return [UInt8](data)
    }

    static func string(_ path: String) -> String {
        String(decoding: bytes(path), as: UTF8.self)
    }

    /// A TXT value stored in a file, trimmed.
    static func txt(_ path: String) -> String {
        string(path).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func json(_ path: String) -> Any {
        try! JSONSerialization.jsonObject(with: Data(bytes(path)))
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

/// A fixed "now" for tests: 2026-01-01T00:00:00Z.
let testNow: Int64 = 1_767_225_600
