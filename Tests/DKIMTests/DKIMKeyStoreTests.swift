import DNSCore
import Foundation
import Testing
@testable import DKIM

struct DKIMKeyStoreTests {
    static func tempConfig() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("apus-dkim-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writeLoadAndRefuseOverwrite() throws {
        let config = try Self.tempConfig()
        defer { try? FileManager.default.removeItem(atPath: config) }
        #expect(try DKIMKeyStore.load(configDirectory: config, domain: "example.com").isEmpty)

        let ed = try DKIMSigningKey.generate(.ed25519, domain: "example.com", selector: "apus-ed25519")
        let rsa = try DKIMSigningKey(pem: TestKeys.rsa2048PEM, domain: "example.com", selector: "apus-rsa")
        let path = try DKIMKeyStore.write(ed, configDirectory: config)
        try DKIMKeyStore.write(rsa, configDirectory: config)
        #expect(path == "\(config)/domains/example.com/dkim/apus-ed25519.pem")
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))

        let loaded = try DKIMKeyStore.load(configDirectory: config, domain: "Example.COM")
        #expect(loaded.map(\.selector) == ["apus-ed25519", "apus-rsa"])
        #expect(loaded.map(\.algorithm) == [.ed25519SHA256, .rsaSHA256])
        #expect(loaded.map(\.publicKeyBase64) == [ed.publicKeyBase64, rsa.publicKeyBase64])

        #expect(throws: DKIMKeyStoreError.alreadyExists(path: path)) { try DKIMKeyStore.write(ed, configDirectory: config) }
    }

    @Test func badKeyFileNamesThePath() throws {
        let config = try Self.tempConfig()
        defer { try? FileManager.default.removeItem(atPath: config) }
        let dir = DKIMKeyStore.directory(configDirectory: config, domain: "example.com")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "junk".write(toFile: dir + "/bad.pem", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try DKIMKeyStore.load(configDirectory: config, domain: "example.com") }
    }
}

/// The adapter from `DNSResolving` (DNSCore's StaticResolver here) to `DKIMKeyLookup`.
struct DKIMDNSLookupTests {
    @Test func mapsResolverOutcomes() async throws {
        var dns = StaticResolver()
        let long = "v=DKIM1; k=rsa; p=\(TestKeys.rsa2048Public)"
        dns.addTXT("rsa._domainkey.example.com", long)     // split into 255-byte strings, joined again
        dns.add("other.example.com", .a(IPAddress("192.0.2.1")!))
        dns.fail("broken._domainkey.example.com", .txt, with: .serverFailure)
        let lookup = dnsKeyLookup(dns)
        #expect(await lookup("rsa._domainkey.example.com") == .found([long]))
        #expect(await lookup("missing._domainkey.example.com") == .notFound)
        #expect(await lookup("other.example.com") == .notFound)
        #expect(await lookup("broken._domainkey.example.com") == .temporaryFailure("SERVFAIL"))

        let signed = try DKIMSigner(timestamp: testNow).sign(message: sampleMessage, keys: [TestKeys.rsa2048])
        let results = await DKIMVerifier(lookup: lookup).verify(message: signed, now: testNow)
        #expect(results.map(\.status) == [.pass])
    }
}
