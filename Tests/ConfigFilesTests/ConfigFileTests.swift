import Foundation
import Testing
@testable import ConfigFiles

/// The ownership rules of ConfigFiles, checked on the files themselves. Tests that give a file a group other
/// than the process's own need root (the suite runs as root in CI); `nogroup` (nobody's group) stands in for
/// `apus`. ConfigFileOwnershipTests (CLITests) checks the same rules through DKIM keys, certificates and init.
struct ConfigFileTests {
    /// A new empty directory with `mode`, and, as root, the group `group`.
    static func directory(mode: mode_t, group: gid_t? = nil) throws -> String {
        let dir = "\(FileManager.default.temporaryDirectory.path)/apus-configfile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        if let group { try #require(chown(dir, 0, group) == 0) }
        try #require(chmod(dir, mode) == 0)
        return dir
    }

    static func owner(_ path: String) throws -> (uid: uid_t, gid: gid_t, mode: mode_t) {
        var info = stat()
        try #require(stat(path, &info) == 0, "stat \(path)")
        return (info.st_uid, info.st_gid, info.st_mode & 0o7777)
    }

    static func nogroup() throws -> gid_t {
        try #require(getpwnam("nobody"), "no user nobody on this system").pointee.pw_gid
    }

    /// The three ways to create a file, none of which replaces one.
    enum Creation: CaseIterable {
        case secret, `public`, new

        func create(_ path: String, _ contents: String) throws(ConfigFile.Failure) -> Bool {
            switch self {
            case .secret: try ConfigFile.createSecret(path, contents: Array(contents.utf8))
            case .public: try ConfigFile.createPublic(path, contents: Array(contents.utf8))
            case .new: try ConfigFile.createNew(path, contents: Array(contents.utf8), mode: 0o640)
            }
        }
    }

    @Test(arguments: Creation.allCases)
    func newFileNeverReplacesAnExistingOne(creation: Creation) throws {
        let dir = try Self.directory(mode: 0o750)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/file"
        #expect(try creation.create(path, "first\n"))
        let first = try Self.owner(path)
        #expect(try creation.create(path, "second\n") == false)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first\n")
        #expect(try Self.owner(path) == first)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["file"], "no temp file left")
    }

    /// A secret is 0640 only when it has its directory's group and the directory gives others nothing.
    @Test(arguments: [
        (0o750, true, 0o640), (0o700, true, 0o640), (0o710, true, 0o640),
        (0o755, true, 0o600), (0o751, true, 0o600), (0o754, true, 0o600),
        (0o750, false, 0o600),
    ] as [(mode_t, Bool, mode_t)])
    func secretModeFollowsTheDirectory(directoryMode: mode_t, sameGroup: Bool, expected: mode_t) {
        var directory = stat()
        directory.st_gid = 100
        directory.st_mode = S_IFDIR | directoryMode
        #expect(ConfigFile.secretMode(fileGroup: sameGroup ? 100 : 200, directory: directory) == expected)
    }

    @Test(arguments: [(0o750, 0o640), (0o755, 0o600)] as [(mode_t, mode_t)])
    func secretFileModeFollowsItsDirectory(directoryMode: mode_t, expected: mode_t) throws {
        let dir = try Self.directory(mode: directoryMode)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try ConfigFile.createSecret("\(dir)/key.pem", contents: Array("key\n".utf8)))
        #expect(try Self.owner("\(dir)/key.pem").mode == expected)
        #expect(try ConfigFile.createPublic("\(dir)/cert.pem", contents: Array("cert\n".utf8)))
        #expect(try Self.owner("\(dir)/cert.pem").mode == 0o644)
    }

    @Test(.enabled(if: geteuid() == 0, "gives files another group: run as root"))
    func rootCreatesWithTheGroupOfTheDirectory() throws {
        let group = try Self.nogroup()
        let dir = try Self.directory(mode: 0o750, group: group)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        try ConfigFile.makeDirectories("\(dir)/a/b")
        for made in ["\(dir)/a", "\(dir)/a/b"] {
            let entry = try Self.owner(made)
            #expect(entry.uid == 0 && entry.gid == group && entry.mode == 0o750, "\(made) \(entry)")
        }
        #expect(try ConfigFile.createSecret("\(dir)/a/b/key.pem", contents: Array("key\n".utf8)))
        #expect(try ConfigFile.createNew("\(dir)/a/users", contents: Array("# users\n".utf8), mode: 0o640))
        for (file, mode) in [("a/b/key.pem", 0o640), ("a/users", 0o640)] as [(String, mode_t)] {
            let entry = try Self.owner("\(dir)/\(file)")
            #expect(entry.uid == 0 && entry.gid == group && entry.mode == mode, "\(file) \(entry)")
        }
    }

    @Test func existingDirectoriesAreNotChanged() throws {
        let dir = try Self.directory(mode: 0o750)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/kept", withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o711])
        try ConfigFile.makeDirectories("\(dir)/kept/new")
        #expect(try Self.owner("\(dir)/kept").mode == 0o711)
        #expect(try Self.owner("\(dir)/kept/new").mode == 0o711)   // rwx for the owner, its parent's r/x bits
    }

    @Test func failuresNameTheCallAndThePath() throws {
        let missing = "/nonexistent-apus-\(UUID().uuidString)"
        #expect(throws: ConfigFile.Failure(operation: .stat, path: missing, errno: ENOENT)) {
            try ConfigFile.describeOwner(path: missing)
        }
        #expect(throws: ConfigFile.Failure(operation: .stat, path: "/nonexistent-apus-dir", errno: ENOENT)) {
            try ConfigFile.createSecret("/nonexistent-apus-dir/key.pem", contents: [])
        }
        #expect(ConfigFile.unreadableReason(errno: ENOENT, path: missing) == "cannot read: No such file or directory")
        // EACCES on a file that is gone: no owner to describe, still who the server runs as.
        #expect(ConfigFile.unreadableReason(errno: EACCES, path: missing)
            .hasPrefix("cannot read: permission denied (the server runs as "))
    }
}
