import Crypto
import Foundation
import Testing
@testable import Directory

@Suite struct SRSTests {
    static let srs = SRS(secret: Array(repeating: 7, count: 32))
    /// Day 20833 since 1970; 20833 mod 1024 = 353 = "LB" in base32.
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static func days(_ n: Int) -> Date { now.addingTimeInterval(Double(n) * 86_400) }

    static func local(_ address: String) -> String { String(address.prefix(while: { $0 != "@" })) }

    /// Fixed vectors, computed independently with Python's hmac (HMAC-SHA256, fields lowercased, NUL after each).
    @Test func knownVectors() {
        #expect(SRS.timestamp(Self.now) == "LB")
        #expect(Self.srs.forward(localPart: "bob", domain: "sender.test", aliasDomain: "example.test", now: Self.now)
                == "SRS0=qgl1=LB=sender.test=bob@example.test")
        #expect(Self.srs.forward(localPart: "SRS0=qgl1=LB=sender.test=bob", domain: "fwd1.example",
                                 aliasDomain: "example.test", now: Self.now)
                == "SRS1=pT5q=fwd1.example==qgl1=LB=sender.test=bob@example.test")
    }

    @Test(arguments: ["bob", "Bob.Smith", "a=b=c", "x+tag", "SRSx=notsrs"])
    func roundTrip(local: String) throws {
        let address = Self.srs.forward(localPart: local, domain: "Sender.Test", aliasDomain: "example.test", now: Self.now)
        #expect(address.hasPrefix("SRS0="))
        #expect(address.hasSuffix("@example.test"))
        #expect(try Self.srs.reverse(localPart: Self.local(address), now: Self.now) == "\(local)@Sender.Test")
    }

    @Test func caseInsensitive() throws {
        let address = Self.srs.forward(localPart: "bob", domain: "sender.test", aliasDomain: "example.test", now: Self.now)
        #expect(try Self.srs.reverse(localPart: Self.local(address).lowercased(), now: Self.now) == "bob@sender.test")
        #expect(try Self.srs.reverse(localPart: Self.local(address).uppercased(), now: Self.now) == "BOB@SENDER.TEST")
    }

    @Test(arguments: [(0, true), (1, true), (21, true), (22, false), (400, false), (-1, false)])
    func expiry(daysLater: Int, valid: Bool) throws {
        let address = Self.srs.forward(localPart: "bob", domain: "sender.test", aliasDomain: "example.test", now: Self.now)
        let local = Self.local(address)
        if valid {
            #expect(try Self.srs.reverse(localPart: local, now: Self.days(daysLater)) == "bob@sender.test")
        } else {
            #expect(throws: SRSError.expired) { try Self.srs.reverse(localPart: local, now: Self.days(daysLater)) }
        }
    }

    @Test func timestampWrapsAround() throws {
        // Day 1023 → day 1024 (slot 0): one day old, not 1023 days in the future.
        let before = Date(timeIntervalSince1970: 1023 * 86_400 + 3600)
        let address = Self.srs.forward(localPart: "bob", domain: "sender.test", aliasDomain: "example.test", now: before)
        #expect(try Self.srs.reverse(localPart: Self.local(address), now: before.addingTimeInterval(86_400)) == "bob@sender.test")
    }

    @Test(arguments: [
        "SRS0=qgl2=LB=sender.test=bob",     // hash
        "SRS0=qgl1=LC=sender.test=bob",     // timestamp
        "SRS0=qgl1=LB=sender.tesT2=bob",    // domain
        "SRS0=qgl1=LB=sender.test=eve",     // local part
        "SRS0=qgl1=LB=sender.test=bob=x",   // local part longer
        "SRS0=qgl1=LB=sender.te=st=bob",    // field boundary moved
    ])
    func tampering(local: String) {
        #expect(throws: SRSError.badHash) { try Self.srs.reverse(localPart: local, now: Self.now) }
    }

    @Test func otherSecretRefused() throws {
        let other = SRS(secret: Array(repeating: 8, count: 32))
        #expect(throws: SRSError.badHash) { try other.reverse(localPart: "SRS0=qgl1=LB=sender.test=bob", now: Self.now) }
        #expect(try Self.srs.reverse(localPart: "SRS0=qgl1=LB=sender.test=bob", now: Self.now) == "bob@sender.test")
    }

    @Test(arguments: [
        ("bob", SRSError.notSRS), ("SRS2=a=b=c=d", .notSRS), ("SRS0", .notSRS), ("SRS0x=a", .notSRS),
        ("SRS0=qgl1=LB=sender.test", .malformed), ("SRS0=qgl1=LB==bob", .malformed),
        ("SRS0=qgl1=LB=sender.test=", .malformed), ("SRS1=pT5q=fwd1.example", .malformed),
        ("SRS1=pT5q==x", .malformed), ("SRS1=pT5q=fwd1.example=x", .malformed),
    ])
    func malformed(local: String, error: SRSError) {
        #expect(throws: error) { try Self.srs.reverse(localPart: local, now: Self.now) }
    }

    @Test func srs1() throws {
        // We forward mail whose sender is fwd1's SRS0 address: SRS1 keeps fwd1 as the hop that can decode it.
        let first = "SRS0=abcd=LB=sender.test=bob"
        let srs1 = Self.srs.forward(localPart: first, domain: "fwd1.example", aliasDomain: "example.test", now: Self.now)
        #expect(srs1.hasPrefix("SRS1="))
        #expect(srs1.contains("=fwd1.example==abcd=LB=sender.test=bob@example.test"))
        #expect(try Self.srs.reverse(localPart: Self.local(srs1), now: Self.now) == "\(first)@fwd1.example")
        // Decoding SRS1 needs no valid timestamp: the first hop checks that.
        #expect(try Self.srs.reverse(localPart: Self.local(srs1), now: Self.days(500)) == "\(first)@fwd1.example")

        // Forwarding an SRS1 address again: a new hash at our domain, the same first hop.
        let again = Self.srs.forward(localPart: Self.local(srs1), domain: "fwd2.example", aliasDomain: "example.org", now: Self.now)
        #expect(again.hasPrefix("SRS1="))
        #expect(again.hasSuffix("=fwd1.example==abcd=LB=sender.test=bob@example.org"))
        #expect(try Self.srs.reverse(localPart: Self.local(again), now: Self.now) == "\(first)@fwd1.example")

        // An SRS1 address with its hash or hop altered is refused.
        let altered = Self.local(srs1).replacingOccurrences(of: "fwd1.example", with: "evil.example")
        #expect(throws: SRSError.badHash) { try Self.srs.reverse(localPart: altered, now: Self.now) }
    }

    @Test func ourSRS0IsDecodedThroughOurSRS1() throws {
        // A chain through two of our own domains: the bounce goes to the SRS0 address, which decodes here too.
        let srs0 = Self.srs.forward(localPart: "bob", domain: "sender.test", aliasDomain: "example.org", now: Self.now)
        let srs1 = Self.srs.forward(localPart: Self.local(srs0), domain: "example.org", aliasDomain: "example.test", now: Self.now)
        let back = try Self.srs.reverse(localPart: Self.local(srs1), now: Self.now)
        #expect(back == srs0)
        #expect(try Self.srs.reverse(localPart: Self.local(back), now: Self.now) == "bob@sender.test")
    }

    @Test func isSRS() {
        #expect(SRS.isSRS(localPart: "SRS0=a"))
        #expect(SRS.isSRS(localPart: "srs1+a"))
        #expect(SRS.isSRS(localPart: "SRS0-a"))
        #expect(!SRS.isSRS(localPart: "SRS0"))
        #expect(!SRS.isSRS(localPart: "srs"))
        #expect(!SRS.isSRS(localPart: "SRS3=a"))
    }

    @Test func secretFileCreatedOnceWithMode0600() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("apus-srs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = SRSSecret.path(dataDirectory: root + "/data")
        #expect(try SRSSecret.load(path: path) == nil)
        let made = try SRSSecret.loadOrCreate(path: path)
        #expect(made.count == SRSSecret.length)
        #expect(try SRSSecret.loadOrCreate(path: path) == made)
        #expect(try SRSSecret.load(path: path) == made)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        #expect(throws: DirectoryError(path: path, reason: "only 3 bytes; an SRS secret needs at least 16 (delete the file to make a new one)")) {
            try SRSSecret.loadOrCreate(path: path)
        }
    }

    /// `apus init` runs as root; when the data directory already belongs to the server's user (the service
    /// ran first), the secret it makes must belong to that user too, or the server cannot read it.
    @Test func secretMadeByRootTakesTheOwnerOfItsDirectory() throws {
        try #require(geteuid() == 0, "this test needs root (the test suite runs as root in CI)")
        let nobody = try #require(getpwnam("nobody")).pointee
        let (uid, gid) = (nobody.pw_uid, nobody.pw_gid)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("apus-srs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/data/state", withIntermediateDirectories: true)
        try #require(chown(root + "/data/state", uid, gid) == 0)
        let path = SRSSecret.path(dataDirectory: root + "/data")
        _ = try SRSSecret.loadOrCreate(path: path)
        var info = stat()
        try #require(stat(path, &info) == 0)
        #expect(info.st_uid == uid && info.st_gid == gid)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    /// Each hash starts from a copy of the keyed HMAC: hashing one address must not change the next.
    @Test func hashesDoNotShareState() {
        let secret = Array("the secret of this test".utf8)
        let srs = SRS(secret: secret)
        let first = srs.hash(["TT", "example.com", "alice"])
        _ = srs.hash(["something", "else"])
        #expect(srs.hash(["TT", "example.com", "alice"]) == first)
        var fresh = HMAC<SHA256>(key: SymmetricKey(data: secret))
        for field in ["tt", "example.com", "alice"] { fresh.update(data: Array(field.utf8)); fresh.update(data: [0]) }
        #expect(first == String(Data(fresh.finalize()).base64EncodedString().prefix(4)))
    }
}

/// `SRS.hash` against the implementation it replaced (per-field `lowercased()` and Foundation's base64): the
/// same four characters for any fields, ASCII or not, so that addresses made before still decode.
@Suite struct SRSHashEquivalenceTests {
    static func reference(_ srs: SRS, _ fields: [String]) -> String {
        var mac = srs.keyed
        for field in fields {
            mac.update(data: Array(field.lowercased().utf8))
            mac.update(data: [0])
        }
        return String(Data(mac.finalize()).base64EncodedString().prefix(SRS.hashLength))
    }

    @Test func matchesTheFormerImplementation() {
        let srs = SRSTests.srs
        let alphabet = Array("aZ09.=+-_@ÄéİßΣ".unicodeScalars)
        for _ in 0..<3000 {
            let fields = (0..<Int.random(in: 1...3)).map { _ in
                String(String.UnicodeScalarView((0..<Int.random(in: 0...12)).map { _ in alphabet.randomElement()! }))
            }
            #expect(srs.hash(fields) == Self.reference(srs, fields), "fields \(fields)")
        }
    }
}
