@testable import CLI
import Config
import DNSCore
import Foundation
import Testing

/// The `delivery` finding of `apus check`: none without a smarthost (the port 25 check applies), a problem
/// naming the file or the reason otherwise. (SmarthostTests checks a successful login against a real relay.)
@Suite struct RelayCheckTests {
    static func config(_ relay: String, authFile: String = "") -> ApusConfig {
        var config = ApusConfig(hostname: "mx.example.com")
        config.delivery.relayHost = relay
        config.delivery.relayAuthFile = authFile
        return config
    }

    @Test func directDeliveryHasNoRelayFinding() async {
        #expect(await RelayCheck.check(Self.config(""), configDirectory: "/nonexistent", dns: StaticResolver()) == nil)
    }

    @Test func missingCredentialsFileIsAProblem() async throws {
        let finding = try #require(await RelayCheck.check(Self.config("127.0.0.1:1", authFile: "relay.auth"),
                                                          configDirectory: "/nonexistent-apus", dns: StaticResolver()))
        #expect(finding.status == .problem)
        #expect(finding.message.contains("/nonexistent-apus/relay.auth ([delivery] relay_auth_file): cannot read"), "\(finding.message)")
    }

    @Test func unreachableRelayIsAProblem() async throws {
        let dir = NSTemporaryDirectory() + "apus-relaycheck-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "user@example.net secret\n".write(toFile: dir + "/relay.auth", atomically: true, encoding: .utf8)
        let finding = try #require(await RelayCheck.check(Self.config("127.0.0.1:1", authFile: "relay.auth"),
                                                          configDirectory: dir, dns: StaticResolver()))
        #expect(finding.status == .problem)
        #expect(finding.message.hasPrefix("mail for other domains goes through the smarthost 127.0.0.1:1 (STARTTLS), but: "), "\(finding.message)")
        #expect(finding.message.contains("Connection refused"), "\(finding.message)")
        #expect(finding.fix?.contains("relay.auth") == true)
    }
}
