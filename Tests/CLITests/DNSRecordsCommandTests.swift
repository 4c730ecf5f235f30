import DKIM
import Foundation
import Testing

/// `apus dns records` on a configuration made by `apus init`, checked by a real zone-file parser (dnspython,
/// Debian `python3-dnspython`) and a real DKIM verifier (dkimpy, `python3-dkim` + `python3-nacl`), run through
/// /usr/bin/python3 (a pyenv python on PATH would not see Debian's modules).
@Suite struct DNSRecordsCommandTests {
    static let python = "/usr/bin/python3"

    /// Loads the snippet as the example.com zone, prints its records as JSON lines:
    /// [name, type, ttl, value, [byte length of each TXT string]]. Then, if a message file is given, verifies
    /// its DKIM signatures with dkimpy, looking the keys up in that zone.
    static let zoneScript = """
        import sys, json, dns.zone, dns.rdatatype
        text = open(sys.argv[1]).read()
        zone = dns.zone.from_text('$ORIGIN example.com.\\n' + text, origin='example.com.', relativize=False,
                                  check_origin=False)
        txt = {}
        for name, node in sorted(zone.nodes.items()):
            for rdataset in node.rdatasets:
                for rdata in rdataset:
                    kind = dns.rdatatype.to_text(rdataset.rdtype)
                    if kind == 'TXT':
                        value = b''.join(rdata.strings).decode()
                        txt.setdefault(name.to_text(), []).append(value)
                        lengths = [len(s) for s in rdata.strings]
                    else:
                        value, lengths = rdata.to_text(), []
                    print(json.dumps([name.to_text(), kind, rdataset.ttl, value, lengths]))
        if len(sys.argv) > 2:
            import dkim
            msg = open(sys.argv[2], 'rb').read()
            def dnsfunc(qname, timeout=5):
                qname = qname.decode() if isinstance(qname, bytes) else qname
                values = txt.get(qname if qname.endswith('.') else qname + '.')
                return values[0].encode() if values else None
            d = dkim.DKIM(msg)
            count = sum(1 for h in d.headers if h[0].lower() == b'dkim-signature')
            print(json.dumps(['dkim', [bool(d.verify(idx=i, dnsfunc=dnsfunc)) for i in range(count)]]))
        """

    struct Record: Equatable {
        var name: String
        var type: String
        var ttl: Int
        var value: String
        var lengths: [Int]
    }

    static func parseZone(_ zone: String, signedMessage: String? = nil) async throws -> (records: [Record], dkim: [Bool]) {
        let dir = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try zone.write(toFile: "\(dir)/zone", atomically: true, encoding: .utf8)
        try #require(FileManager.default.fileExists(atPath: python), "needs /usr/bin/python3 with python3-dnspython")
        var arguments = ["-c", zoneScript, "\(dir)/zone"]
        if let signedMessage {
            try signedMessage.write(toFile: "\(dir)/msg", atomically: true, encoding: .utf8)
            arguments.append("\(dir)/msg")
        }
        let result = try await ApusProcess.runProgram(python, arguments)
        try #require(result.status == 0, "dnspython refused the zone: \(result.err)")
        var records: [Record] = []
        var dkim: [Bool] = []
        for line in result.out.split(separator: "\n") {
            let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any])
            if row.count == 2, let results = row[1] as? [Bool] { dkim = results; continue }
            records.append(Record(name: row[0] as! String, type: row[1] as! String, ttl: row[2] as! Int,
                                  value: row[3] as! String, lengths: row[4] as! [Int]))
        }
        return (records, dkim)
    }

    static func initialized() async throws -> String {
        let root = try ApusProcess.temporaryDirectory()
        let result = try await ApusProcess.run(["init", "example.com", "--config", "\(root)/config",
                                                "--data-dir", "\(root)/data"])
        try #require(result.status == 0, "apus init failed: \(result.err)")
        return root
    }

    @Test func zoneSnippetLoadsAndMatchesTheKeys() async throws {
        let root = try await Self.initialized()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = "\(root)/config"
        let result = try await ApusProcess.run(["dns", "records", "example.com", "--config", config,
                                                "--ip", "203.0.113.7", "--ip6", "2001:db8::7"])
        #expect(result.status == 0, "\(result.err)")
        let output = result.out

        // Every line is a comment, empty, or a record; every quoted string is at most 255 bytes.
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            #expect(line.hasPrefix(";") || line.contains(". 3600 IN "), "stray line: \(line)")
        }
        #expect(output.contains("\nexample.com. 3600 IN MX 10 mx.example.com.\n"))

        // Sign a message with the same keys, so dkimpy can check the published records against it.
        let message = "From: alice@example.com\r\nTo: bob@example.org\r\nSubject: hi\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n\r\nHello.\r\n"
        let signed = try await Self.sign(message, config: config)
        let (records, dkimResults) = try await Self.parseZone(output, signedMessage: signed)

        func values(_ name: String, _ type: String) -> [String] {
            records.filter { $0.name == name && $0.type == type }.map(\.value)
        }
        #expect(values("example.com.", "MX") == ["10 mx.example.com."])
        #expect(values("mx.example.com.", "A") == ["203.0.113.7"])
        #expect(values("mx.example.com.", "AAAA") == ["2001:db8::7"])
        #expect(values("example.com.", "TXT") == ["v=spf1 ip4:203.0.113.7 ip6:2001:db8::7 mx -all"])
        #expect(values("mx.example.com.", "TXT") == ["v=spf1 a -all"])
        #expect(values("_dmarc.example.com.", "TXT") == ["v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com"])
        #expect(values("_smtp._tls.example.com.", "TXT") == ["v=TLSRPTv1; rua=mailto:postmaster@example.com"])
        let sts = values("_mta-sts.example.com.", "TXT")
        #expect(sts.count == 1 && sts[0].range(of: #"^v=STSv1; id=[0-9a-f]{16}$"#, options: .regularExpression) != nil, "\(sts)")
        #expect(records.allSatisfy { $0.ttl == 3600 })
        #expect(records.allSatisfy { $0.lengths.allSatisfy { $0 <= 255 } })
        #expect(records.count == 10)   // MX, A, AAAA, 2 SPF, 2 DKIM, DMARC, MTA-STS, TLS-RPT

        // The DKIM records, reassembled by the parser, are the keys on disk.
        let keys = try DKIMKeyStore.load(configDirectory: config, domain: "example.com")
        #expect(keys.count == 2)
        for key in keys {
            let published = values("\(key.recordName).", "TXT")
            #expect(published == [key.txtRecord])
            let p = published.first?.components(separatedBy: "p=").last
            #expect(p == key.publicKeyBase64)
        }
        let rsa = try #require(records.first { $0.name == "apus-rsa._domainkey.example.com." })
        #expect(rsa.lengths.count >= 3, "an RSA-2048 record needs more than one string: \(rsa.lengths)")
        #expect(dkimResults == [true, true], "dkimpy did not verify both signatures with the published keys")
    }

    /// Without addresses the A/AAAA records are commented placeholders: the snippet still loads.
    @Test func placeholdersKeepTheSnippetLoadable() async throws {
        let root = try await Self.initialized()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try await ApusProcess.run(["dns", "records", "example.com", "--config", "\(root)/config"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("; mx.example.com. 3600 IN A <IPv4 address of this server>"))
        let (records, _) = try await Self.parseZone(result.out)
        #expect(!records.contains { $0.type == "A" || $0.type == "AAAA" })
        #expect(records.first { $0.name == "example.com." && $0.type == "TXT" }?.value == "v=spf1 mx -all")
    }

    @Test func tableListsNameTypeValue() async throws {
        let root = try await Self.initialized()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = "\(root)/config"
        let result = try await ApusProcess.run(["dns", "records", "example.com", "--config", config, "--table",
                                                "--ip", "203.0.113.7"])
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n").map(String.init)
        #expect(lines.first?.range(of: #"^NAME +TYPE +VALUE$"#, options: .regularExpression) != nil)
        func row(_ name: String, _ type: String) -> String? {
            lines.first { $0.range(of: "^\(NSRegularExpression.escapedPattern(for: name)) +\(type) +", options: .regularExpression) != nil }
                .map { $0.replacingOccurrences(of: #"^\S+ +\S+ +"#, with: "", options: .regularExpression) }
        }
        #expect(row("example.com", "MX") == "10 mx.example.com")
        #expect(row("mx.example.com", "A") == "203.0.113.7")
        #expect(row("_dmarc.example.com", "TXT") == "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com")
        let keys = try DKIMKeyStore.load(configDirectory: config, domain: "example.com")
        for key in keys {
            #expect(row(key.recordName, "TXT") == key.txtRecord, "\(key.selector): one unsplit value")
        }
        #expect(result.out.contains("7.113.0.203.in-addr.arpa. PTR mx.example.com."))
        #expect(result.out.contains("https://mta-sts.example.com/.well-known/mta-sts.txt"))
        #expect(!result.out.contains(" IN TXT "))
    }

    @Test func errorsNameTheProblem() async throws {
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let noConfig = try await ApusProcess.run(["dns", "records", "example.com", "--config", root])
        #expect(noConfig.status != 0)
        #expect(noConfig.err.contains("apus init"))
        let badIP = try await ApusProcess.run(["dns", "records", "example.com", "--config", root, "--ip6", "192.0.2.1"])
        #expect(badIP.status != 0)
        #expect(badIP.err.contains("--ip6 192.0.2.1: not an IPv6 address"))
    }

    /// `apus dkim dns` prints the same DKIM lines (it shares `ZoneRecord.dkim`).
    @Test func dkimDNSPrintsTheSameLines() async throws {
        let root = try await Self.initialized()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = "\(root)/config"
        let dkim = try await ApusProcess.run(["dkim", "dns", "example.com", "--config", config])
        let records = try await ApusProcess.run(["dns", "records", "example.com", "--config", config])
        let dkimLines = dkim.out.split(separator: "\n")
        #expect(dkimLines.count == 2)
        for line in dkimLines { #expect(records.out.contains(line + "\n")) }
    }

    static func sign(_ message: String, config: String) async throws -> String {
        let dir = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try await ApusProcess.run(["dkim", "sign", "example.com", "--config", config], input: message)
        try #require(result.status == 0, "apus dkim sign failed: \(result.err)")
        return result.out
    }
}
