import Certificates
import DKIM
import DNSCore
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `apus check` against real parts (issue 7 acceptance): `apus init` in a temporary directory, the records
/// `apus dns records` prints loaded as they are into a real authoritative DNS server (NSD), `apus serve`
/// from that configuration on the standard ports 25/587/465 of a random 127.x.y.z address, the MTA-STS
/// policy (also as printed) served over HTTPS on port 443 by `openssl s_server`. The check is all ✓; then
/// each record is broken in turn and exactly the expected ✗ line appears, with exit status 1.
///
/// Needs root (ports below 1024; what `scripts/test` runs as in CI), the Debian packages nsd and openssl.
@Suite(.serialized) struct CheckCommandTests {
    final class World {
        let root: String
        let config: String
        let ip: String
        let zone: String
        let policy: String

        init() async throws {
            try #require(getuid() == 0, "apus check's test binds ports 25, 443, 465 and 587 on 127.x.y.z: run it as root (as scripts/test does in CI)")
            root = try ApusProcess.temporaryDirectory()
            config = "\(root)/config"
            ip = "127.\(Int.random(in: 1...254)).\(Int.random(in: 0...254)).\(Int.random(in: 2...254))"
            let initialized = try await ApusProcess.run(["init", "example.test", "--config", config,
                                                         "--data-dir", "\(root)/data", "--scrypt-log-n", "4"])
            try #require(initialized.status == 0, "\(initialized.err)")
            let records = try await ApusProcess.run(["dns", "records", "example.test", "--config", config, "--ip", ip])
            try #require(records.status == 0, "\(records.err)")
            zone = records.out
            // The policy file as `apus dns records` prints it (comment lines after "The policy file").
            let policyLines = zone.split(separator: "\n").filter {
                $0.range(of: "^;   (version|mode|mx|max_age): ", options: .regularExpression) != nil
            }.map { String($0.dropFirst(4)) }
            try #require(policyLines.count == 4, "policy lines in: \(zone)")
            policy = policyLines.joined(separator: "\r\n") + "\r\n"

            // The certificate `apus init` made is trusted through ca_file, with the MTA-STS host's.
            let sts = try SelfSignedCertificate.generate(hostname: "mta-sts.example.test")
            try sts.certificate.write(toFile: "\(root)/sts.pem", atomically: true, encoding: .utf8)
            try sts.privateKey.write(toFile: "\(root)/sts.key", atomically: true, encoding: .utf8)
            let mxCert = try String(contentsOfFile: "\(config)/certs/mx.example.test/fullchain.pem", encoding: .utf8)
            try (mxCert + sts.certificate).write(toFile: "\(root)/ca.pem", atomically: true, encoding: .utf8)

            try ApusProcess.setConfigKeys([("mx", "[\"\(ip):25\"]"), ("submission", "[\"\(ip):587\"]"),
                                           ("submissions", "[\"\(ip):465\"]"), ("admin", "[]"),
                                           ("ca_file", "\"\(root)/ca.pem\"")], configDirectory: config)

            try FileManager.default.createDirectory(atPath: "\(root)/www/.well-known", withIntermediateDirectories: true)
            try policy.write(toFile: "\(root)/www/.well-known/mta-sts.txt", atomically: true, encoding: .utf8)
            try start("/usr/bin/openssl", ["s_server", "-quiet", "-WWW", "-accept", "\(ip):443",
                                            "-cert", "\(root)/sts.pem", "-key", "\(root)/sts.key"], in: "\(root)/www")
            try start(try #require(ApusProcess.apus), ["serve", "--config", config], in: root)
            try #require(Self.waitForPort(ip, 443), "openssl s_server did not listen on \(ip):443")
            try #require(Self.waitForPort(ip, 25), "apus serve did not listen on \(ip):25")
            try #require(Self.waitForPort(ip, 465), "apus serve did not listen on \(ip):465")
        }

        var pids: [pid_t] = []

        /// Started through the shell for its working directory, with an empty signal mask (see `stopProcess`).
        func start(_ executable: String, _ arguments: [String], in directory: String) throws {
            let command = "cd '\(directory)' && exec '\(executable)' " + arguments.map { "'\($0)'" }.joined(separator: " ")
            pids.append(try Dnsmasq.spawn(["/bin/sh", "-c", command], path: "/bin/sh"))
        }

        func stop() {
            for pid in pids { stopProcess(pid) }
            try? FileManager.default.removeItem(atPath: root)
        }

        /// The zones: the domain's (SOA, NS, the MTA-STS host and the printed records), the reverse zone
        /// with this server's PTR, and Spamhaus' test entry.
        func zones(domain: String? = nil, ptr: String = "mx.example.test.") -> [String: String] {
            let octets = ip.split(separator: ".")
            return [
                "example.test": Nsd.soa("example.test") + "mta-sts.example.test. IN A \(ip)\n" + (domain ?? zone),
                "127.in-addr.arpa": Nsd.soa("127.in-addr.arpa")
                    + "\(octets.reversed().joined(separator: ".")).in-addr.arpa. IN PTR \(ptr)\n",
                "zen.spamhaus.org": Nsd.soa("zen.spamhaus.org") + "2.0.0.127.zen.spamhaus.org. IN A 127.0.0.2\n",
            ]
        }

        /// `apus check` with the zones served by a fresh NSD.
        func check(_ zones: [String: String], json: Bool = false) async throws -> ApusProcess.Result {
            let nsd = try await Nsd.start(zones: zones, in: root)
            defer { nsd.stop() }
            return try await ApusProcess.run(["check", "example.test", "--config", config, "--dns", nsd.address,
                                              "--ip", ip, "--outbound-probe", "example.test", "--timeout", "5"]
                                             + (json ? ["--json"] : []))
        }

        static func waitForPort(_ ip: String, _ port: Int) -> Bool {
            for _ in 0..<100 {
                let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_addr.s_addr = inet_addr(ip)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                close(s)
                if connected == 0 { return true }
                usleep(100_000)
            }
            return false
        }
    }

    /// The finding lines (those starting with ✓, ✗ or !).
    static func findings(_ out: String) -> [String] {
        out.split(separator: "\n").map(String.init).filter { $0.hasPrefix("✓") || $0.hasPrefix("✗") || $0.hasPrefix("!") }
    }

    static func replacingLine(in zone: String, startingWith prefix: String, with line: String?) throws -> String {
        var lines = zone.components(separatedBy: "\n")
        let index = try #require(lines.firstIndex { $0.hasPrefix(prefix) }, "no line \(prefix) in the zone")
        if let line { lines[index] = line } else { lines.remove(at: index) }
        return lines.joined(separator: "\n")
    }

    @Test func publishedRecordsPassThenEachBrokenRecordIsAProblem() async throws {
        let world = try await World()
        defer { world.stop() }
        let ip = world.ip

        // Everything as init and dns records made it: all ✓, exit 0.
        let good = try await world.check(world.zones())
        let lines = Self.findings(good.out)
        #expect(good.status == 0, "\(good.out)\(good.err)")
        #expect(lines.count >= 17, "\(good.out)")
        #expect(lines.allSatisfy { $0.hasPrefix("✓") }, "\(good.out)")
        for expected in ["✓ MX: example.test → mx.example.test", "✓ mx.example.test A \(ip) is this server",
                         "✓ reverse DNS: \(ip) → mx.example.test → \(ip)", "✓ SPF of example.test authorizes \(ip)",
                         "✓ DKIM: apus-rsa._domainkey.example.test matches", "✓ DKIM: apus-ed25519._domainkey.example.test matches",
                         "✓ DMARC: p=quarantine", "✓ MTA-STS: mode testing, mx mx.example.test",
                         "✓ certificate for mx.example.test is trusted", "✓ mx \(ip):25 answers: 220",
                         "✓ submission \(ip):587 answers: 220", "✓ submissions \(ip):465 answers: 220",
                         "✓ outbound port 25 is open", "✓ DNS blocklists answer", "✓ \(ip) is not listed"] {
            #expect(lines.contains { $0.hasPrefix(expected) }, "missing \(expected) in \(good.out)")
        }

        let json = try await world.check(world.zones(), json: true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        #expect(object["passed"] as? Bool == true)
        #expect(object["problems"] as? Int == 0)
        #expect((object["findings"] as? [[String: Any]])?.count == lines.count)

        // A DNS server that does not answer: one ✗ line for it instead of a warning per record.
        let silentPort = try await Dnsmasq.freePort()
        let silent = try await ApusProcess.run(["check", "example.test", "--config", world.config, "--dns", "127.0.0.1:\(silentPort)",
                                                "--ip", ip, "--timeout", "1"])
        #expect(silent.status == 1)
        #expect(Self.findings(silent.out).first == "✗ the DNS server (127.0.0.1:\(silentPort)) does not answer: no DNS record could be checked",
                "\(silent.out)")
        #expect(Self.findings(silent.out).contains { $0.hasPrefix("✓ mx \(ip):25 answers") }, "\(silent.out)")

        // Each break: exit 1 and exactly the expected ✗ line.
        let otherKey = try DKIMSigningKey.generate(.rsa2048, domain: "example.test", selector: "apus-rsa")
        let breaks: [(what: String, zones: [String: String], problem: String)] = [
            ("wrong DKIM key",
             world.zones(domain: try Self.replacingLine(in: world.zone, startingWith: "apus-rsa._domainkey.",
                                                         with: otherKey.zoneFileLine())),
             "✗ apus-rsa._domainkey.example.test holds a different key than"),
            ("SPF without our address",
             world.zones(domain: try Self.replacingLine(in: world.zone, startingWith: "example.test. 3600 IN TXT \"v=spf1",
                                                         with: "example.test. 3600 IN TXT \"v=spf1 ip4:192.0.2.77 -all\"")),
             "✗ SPF of example.test does not authorize \(ip) (fail)"),
            ("no DMARC",
             world.zones(domain: try Self.replacingLine(in: world.zone, startingWith: "_dmarc.", with: nil)),
             "✗ example.test has no DMARC record"),
            ("PTR mismatch", world.zones(ptr: "other.example.net."),
             "✗ reverse DNS of \(ip) is other.example.net, not mx.example.test"),
        ]
        for broken in breaks {
            let result = try await world.check(broken.zones)
            let problems = Self.findings(result.out).filter { $0.hasPrefix("✗") }
            #expect(result.status == 1, "\(broken.what): \(result.out)")
            #expect(problems.count == 1 && problems.first?.hasPrefix(broken.problem) == true,
                    "\(broken.what): expected \(broken.problem) in \(result.out)")
        }

        // An expired certificate in place of the one init made.
        let expired = try SelfSignedCertificate.generate(hostname: "mx.example.test", validDays: 30,
                                                         now: Date().addingTimeInterval(-60 * 86_400))
        try expired.certificate.write(toFile: "\(world.config)/certs/mx.example.test/fullchain.pem", atomically: true, encoding: .utf8)
        try expired.privateKey.write(toFile: "\(world.config)/certs/mx.example.test/privkey.pem", atomically: true, encoding: .utf8)
        let result = try await world.check(world.zones())
        let problems = Self.findings(result.out).filter { $0.hasPrefix("✗") }
        #expect(result.status == 1, "expired certificate: \(result.out)")
        #expect(problems.count == 1 && problems.first?.hasPrefix("✗ certificate for mx.example.test expired on") == true,
                "expired certificate: \(result.out)")
    }
}
