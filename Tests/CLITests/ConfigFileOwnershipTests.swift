import Certificates
import ConfigFiles
import Foundation
import Testing
@testable import DKIM

/// Secrets that root creates in the configuration tree (`apus dkim keygen`, `apus init` for another domain, the
/// self-signed certificate) take the group of their directory, and group read when that directory is closed
/// to others, so a root:apus 0750 tree (docs/install.md) stays readable by the server; in a directory open to
/// others they stay 0600. `nogroup` stands in for `apus`. Needs root (the suite runs as root in CI).
struct ConfigFileOwnershipTests {
    static func requireRoot() throws {
        try #require(geteuid() == 0, "ConfigFileOwnershipTests chgrp files: run the test suite as root")
    }

    /// nobody's primary group (nogroup on Debian).
    static func group() throws -> gid_t {
        try #require(getpwnam("nobody"), "no user nobody on this system").pointee.pw_gid
    }

    static func owner(_ path: String) throws -> (uid: uid_t, gid: gid_t, mode: mode_t) {
        var info = stat()
        try #require(stat(path, &info) == 0, "stat \(path)")
        return (info.st_uid, info.st_gid, info.st_mode & 0o7777)
    }

    /// A configuration directory root:GROUP with `mode`.
    static func config(mode: mode_t) throws -> String {
        let dir = try ApusProcess.temporaryDirectory()
        try #require(chown(dir, 0, try group()) == 0 && chmod(dir, mode) == 0)
        return dir
    }

    @Test func dkimKeyInAClosedTreeIsReadableByItsGroup() throws {
        try Self.requireRoot()
        let group = try Self.group()
        let config = try Self.config(mode: 0o750)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let key = try DKIMSigningKey.generate(.ed25519, domain: "example.test", selector: "extra")
        let path = try DKIMKeyStore.write(key, configDirectory: config)

        let file = try Self.owner(path)
        #expect(file.uid == 0 && file.gid == group && file.mode == 0o640, "\(path) \(file)")
        // domains/, domains/example.test/ and dkim/ were made on the way, like their parent.
        for dir in ["domains", "domains/example.test", "domains/example.test/dkim"] {
            let made = try Self.owner("\(config)/\(dir)")
            #expect(made.gid == group && made.mode == 0o750, "\(dir) \(made)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(config)/domains/example.test/dkim") == ["extra.pem"])
        #expect(try DKIMKeyStore.load(configDirectory: config, domain: "example.test").map(\.selector) == ["extra"])
    }

    @Test func dkimKeyInAnOpenDirectoryStaysPrivate() throws {
        try Self.requireRoot()
        let group = try Self.group()
        let config = try Self.config(mode: 0o755)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let key = try DKIMSigningKey.generate(.ed25519, domain: "example.test", selector: "extra")
        let path = try DKIMKeyStore.write(key, configDirectory: config)
        let file = try Self.owner(path)
        #expect(file.gid == group && file.mode == 0o600, "\(file)")
        #expect(try Self.owner("\(config)/domains").mode == 0o755)
    }

    @Test func existingKeyFileIsNeitherReplacedNorChanged() throws {
        try Self.requireRoot()
        let config = try Self.config(mode: 0o750)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let dir = DKIMKeyStore.directory(configDirectory: config, domain: "example.test")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = "\(dir)/extra.pem"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("old".utf8), attributes: [.posixPermissions: 0o600]))
        let key = try DKIMSigningKey.generate(.ed25519, domain: "example.test", selector: "extra")
        #expect(throws: DKIMKeyStoreError.alreadyExists(path: path)) { try DKIMKeyStore.write(key, configDirectory: config) }
        let file = try Self.owner(path)
        #expect(file.gid == 0 && file.mode == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["extra.pem"])   // no temp file left
    }

    /// The text of the error the server logs for a key it may not read (root reads every file, so the text
    /// is checked directly; ServeAsUnprivilegedUserTests sees it from a server running as nobody).
    @Test func unreadableKeyReasonNamesOwnerModeAndUser() throws {
        let config = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: config) }
        let path = "\(config)/k.pem"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0o600]))
        let reason = ConfigFile.unreadableReason(errno: EACCES, path: path)
        let user = String(cString: getpwuid(geteuid())!.pointee.pw_name)
        #expect(reason.hasPrefix("cannot read: permission denied (\(user):"), "\(reason)")
        #expect(reason.contains(" 0600; the server runs as \(user), group "), "\(reason)")
        #expect(reason.hasSuffix("chgrp/chmod it: see \"Ownership and permissions\" in docs/install.md"), "\(reason)")
    }

    @Test func selfSignedCertificateInAClosedTreeIsReadableByItsGroup() throws {
        try Self.requireRoot()
        let config = try Self.config(mode: 0o750)
        defer { try? FileManager.default.removeItem(atPath: config) }
        #expect(try SelfSignedCertificate.write(hostname: "mx.example.test", certsDirectory: "\(config)/certs"))
        let group = try Self.group()
        let expected: [(String, mode_t)] = [("certs", 0o750), ("certs/mx.example.test", 0o750),
                                            ("certs/mx.example.test/privkey.pem", 0o640),
                                            ("certs/mx.example.test/fullchain.pem", 0o644)]
        for (name, mode) in expected {
            let file = try Self.owner("\(config)/\(name)")
            #expect(file.uid == 0 && file.gid == group && file.mode == mode, "\(name) \(file)")
        }
        #expect(try CertificateSet.load(certsDirectory: "\(config)/certs").entries.count == 1)
        // A second run keeps the pair.
        #expect(try SelfSignedCertificate.write(hostname: "mx.example.test", certsDirectory: "\(config)/certs") == false)
    }

    @Test func orphanPrivateKeyIsNotReplaced() throws {
        let config = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: config) }
        let dir = "\(config)/certs/mx.example.test"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "mine".write(toFile: "\(dir)/privkey.pem", atomically: false, encoding: .utf8)
        #expect(throws: CertificateError.self) {
            try SelfSignedCertificate.write(hostname: "mx.example.test", certsDirectory: "\(config)/certs")
        }
        #expect(try String(contentsOfFile: "\(dir)/privkey.pem", encoding: .utf8) == "mine")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/fullchain.pem"))
    }

    /// `apus init` for a second domain into a tree already made root:GROUP 0750/0640: everything it creates
    /// must be readable through the group: the domain directory and users file (InitCommand+Files), the DKIM
    /// directory and keys (DKIMKeyStore).
    @Test func secondDomainByInitIsReadableThroughTheGroup() async throws {
        try Self.requireRoot()
        let group = try Self.group()
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = "\(root)/config"
        let first = try await ApusProcess.run(["init", "example.test", "--config", config, "--data-dir", "\(root)/data"])
        try #require(first.status == 0, "\(first.err)")
        for command in [["/bin/chown", "-R", "0:\(group)", config], ["/bin/chmod", "-R", "u=rwX,g=rX,o=", config]] {
            let result = try await ApusProcess.runProgram(command[0], Array(command.dropFirst()))
            try #require(result.status == 0, "\(command): \(result.err)")
        }
        let second = try await ApusProcess.run(["init", "example.org", "--config", config, "--user", "bob",
                                                "--password", "second-domain-pw", "--scrypt-log-n", "4"])
        try #require(second.status == 0, "\(second.err)")

        let domain = "\(config)/domains/example.org"
        var paths = [domain]
        let walker = try #require(FileManager.default.enumerator(atPath: domain))
        while let name = walker.nextObject() as? String { paths.append("\(domain)/\(name)") }
        #expect(paths.count == 6, "\(paths)")   // the directory, users, aliases, dkim/ and its two keys
        var unreadable: [String] = []
        for path in paths {
            let entry = try Self.owner(path)
            let isDirectory = (try? FileManager.default.contentsOfDirectory(atPath: path)) != nil
            if entry.gid != group || entry.mode & (isDirectory ? 0o050 : 0o040) != (isDirectory ? 0o050 : 0o040) {
                unreadable.append("\(path) gid \(entry.gid) mode 0\(String(entry.mode, radix: 8))")
            }
        }
        #expect(unreadable.isEmpty, "\(unreadable)")
    }
}
