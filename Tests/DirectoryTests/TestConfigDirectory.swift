import Foundation
@testable import Directory

/// A throw-away configuration directory with `domains/<d>/users` files.
struct TestConfigDirectory: ~Copyable {
    let path: String

    init(domains: [String: String?] = [:]) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("apus-dir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path + "/domains", withIntermediateDirectories: true)
        for (domain, users) in domains {
            try FileManager.default.createDirectory(atPath: "\(path)/domains/\(domain)", withIntermediateDirectories: true)
            if let users { try write("domains/\(domain)/users", users) }
        }
    }

    func write(_ relative: String, _ text: String) throws {
        try text.write(toFile: "\(path)/\(relative)", atomically: false, encoding: .utf8)
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: "\(path)/\(relative)", encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Hashes made once, at ln=10 (ln=15 takes over a second in a debug build).
enum Fixtures {
    /// From Python, see PasswordHashTests: the password is "correct horse battery staple".
    static let horse = "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU"
    static let horsePassword = "correct horse battery staple"
    /// The password is the empty string.
    static let empty = "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$aXxV+SdCr+1ofX/yO9ssZIXk0slZ7Pwg0vrrut6MuZw"
}
