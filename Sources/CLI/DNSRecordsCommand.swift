import ArgumentParser
import Config
import DKIM
import DNSCore
import Foundation

/// `apus dns records DOMAIN [--ip ADDR] [--ip6 ADDR] [--table]` (DESIGN.md §3b): every record a domain needs
/// to receive and send mail with this server, as a zone-file snippet (or a table for DNS providers' web forms).
struct DNSRecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Print every DNS record to publish for a domain: MX, A/AAAA, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, PTR.",
        discussion: """
            The output is a BIND zone-file snippet: lines starting with ";" are comments that explain each \
            record, so the whole output can be pasted into a zone file. --table prints the records as a \
            name / type / value list instead, for DNS providers' web forms.

            The host name comes from apus.toml, the DKIM keys from CONFIG/domains/DOMAIN/dkim/. Give this \
            server's public addresses with --ip and --ip6 to get its A and AAAA records, an SPF record that \
            names them and the reverse DNS (PTR) to ask your hosting provider for.
            """)

    @OptionGroup var options: ConfigOptions
    @Argument(help: "The mail domain (the part after @).") var domain: String
    @Option(name: .customLong("ip"), help: ArgumentHelp("This server's public IPv4 address (repeatable).", valueName: "IPv4"))
    var ipv4: [String] = []
    @Option(name: .customLong("ip6"), help: ArgumentHelp("This server's public IPv6 address (repeatable).", valueName: "IPv6"))
    var ipv6: [String] = []
    @Flag(help: "Print a name / type / value table instead of zone-file lines.") var table = false

    func validate() throws {
        _ = try DomainArgument.normalize(domain)
        _ = try DomainArgument.addresses(ipv4: ipv4, ipv6: ipv6)
    }

    func run() async throws {
        let domain = try DomainArgument.normalize(domain)
        let addresses = try DomainArgument.addresses(ipv4: ipv4, ipv6: ipv6)
        let configDirectory = options.configDirectory
        let config = try ApusConfig.load(configDirectory: configDirectory)
        let hostname = try DomainArgument.hostname(of: config, configDirectory: configDirectory, domain: domain)
        let keys = try DomainArgument.dkimKeys(configDirectory: configDirectory, domain: domain)
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: "\(configDirectory)/domains/\(domain)", isDirectory: &isDirectory)
            || !isDirectory.boolValue {
            warn("\(domain) is not a domain of this server yet (no \(configDirectory)/domains/\(domain)); run `apus init \(domain)`")
        }
        if keys.isEmpty {
            warn("no DKIM keys in \(DKIMKeyStore.directory(configDirectory: configDirectory, domain: domain)); run `apus init \(domain)`")
        }
        for ip in addresses where !DomainArgument.isGlobal(ip) {
            warn("\(ip) is not a public address: other servers on the internet cannot reach it")
        }
        let records = DNSRecordSet(domain: domain, hostname: hostname, addresses: addresses, dkimKeys: keys,
                                   configDirectory: configDirectory, now: Date(), mtaSTSSettings: config.mtaSTS)
        print(table ? records.table() : records.zoneSnippet(), terminator: "")
    }

    func warn(_ message: String) {
        FileHandle.standardError.write(Data("apus dns records: warning: \(message)\n".utf8))
    }
}

/// The records of one domain and how to explain them. Pure: the caller supplies the keys and the time.
struct DNSRecordSet {
    var domain: String
    var hostname: String
    var addresses: [IPAddress]
    var dkimKeys: [DKIMSigningKey]
    var configDirectory: String
    /// For the MTA-STS policy id (RFC 8461 §3.1: it must change whenever the policy changes).
    var now: Date
    /// `[mta_sts]`: the policy served on `[listen] https`; its hash is the TXT record's id.
    var mtaSTSSettings = ApusConfig.MTASTS()

    var ipv4: [IPAddress] { addresses.filter(\.isIPv4) }
    var ipv6: [IPAddress] { addresses.filter { !$0.isIPv4 } }
    var reportAddress: String { "postmaster@\(domain)" }
    /// Whether the host name's records go in this domain's zone.
    var hostInZone: Bool { hostname == domain || hostname.hasSuffix("." + domain) }

    var mx: ZoneRecord { ZoneRecord(name: domain, data: .mx(preference: 10, exchange: hostname)) }
    var hostAddresses: [ZoneRecord] { addresses.map { ZoneRecord(name: hostname, data: .address($0)) } }

    /// `v=spf1 mx -all`, or with this server's addresses first: `v=spf1 ip4:… ip6:… mx -all`.
    var spf: ZoneRecord {
        let terms = ipv4.map { "ip4:\($0)" } + ipv6.map { "ip6:\($0)" }
        return .txt(domain, (["v=spf1"] + terms + ["mx", "-all"]).joined(separator: " "))
    }

    /// SPF for the host name, checked for mail with an empty sender (bounces) (RFC 7208 §2.3). Not when the
    /// host name is the domain itself: one name may have only one SPF record (RFC 7208 §3.2).
    var heloSPF: ZoneRecord? { hostname == domain ? nil : .txt(hostname, "v=spf1 a -all") }

    var dkim: [ZoneRecord] { dkimKeys.map { ZoneRecord.dkim($0) } }

    var dmarc: ZoneRecord { .txt("_dmarc.\(domain)", "v=DMARC1; p=quarantine; rua=mailto:\(reportAddress)") }

    /// Changes whenever the served policy changes (RFC 8461 §3.1): a hash of the policy text.
    var mtaSTSID: String { mtaSTSSettings.policyID(hostname: hostname) }

    var mtaSTS: ZoneRecord { .txt("_mta-sts.\(domain)", "v=STSv1; id=\(mtaSTSID)") }

    /// The policy file (RFC 8461 §3.2), served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt.
    var mtaSTSPolicy: [String] {
        mtaSTSSettings.policyText(hostname: hostname).split(separator: "\r\n").map(String.init)
    }

    var mtaSTSPolicyURL: String { "https://mta-sts.\(domain)/.well-known/mta-sts.txt" }

    var tlsRPT: ZoneRecord { .txt("_smtp._tls.\(domain)", "v=TLSRPTv1; rua=mailto:\(reportAddress)") }

    /// Every record, in the order they are printed.
    var records: [ZoneRecord] {
        [mx] + hostAddresses + [spf] + (heloSPF.map { [$0] } ?? []) + dkim + [dmarc, mtaSTS, tlsRPT]
    }

    /// The reverse name to ask the hosting provider for, per address.
    var ptrLines: [String] {
        addresses.map { "\(ReverseName.name(for: $0).zoneDescription) PTR \(hostname).   (for \($0))" }
    }

    var dkimDirectory: String { DKIMKeyStore.directory(configDirectory: configDirectory, domain: domain) }

    // MARK: the zone-file snippet

    func zoneSnippet() -> String {
        var out: [String] = []
        func comment(_ text: String) { out.append(ZoneFile.comment(text)) }
        func record(_ r: ZoneRecord) { out.append(r.zoneLine) }
        func blank() { out.append("") }

        comment("""
            DNS records for \(domain), mail host \(hostname) (apus dns records).
            Paste them into the \(domain) zone, or enter them in your DNS provider's web form (--table lists
            them as name, type, value). Names end with "." (they are complete); lines starting with ";" are comments.
            """)
        blank()

        comment("MX: mail for @\(domain) goes to \(hostname).")
        record(mx)
        blank()

        comment("A/AAAA: the addresses of \(hostname) (an MX host needs its own A/AAAA records, not a CNAME).")
        if !hostInZone { comment("\(hostname) is not in \(domain): publish these in the zone of \(hostname).") }
        for r in hostAddresses { record(r) }
        if ipv4.isEmpty {
            comment("""
                Address not given: replace the placeholder with this server's public IPv4 address and remove
                the "; " (or run again with --ip ADDRESS):
                \(hostname). \(ZoneFile.defaultTTL) IN A <IPv4 address of this server>
                """)
        }
        if ipv6.isEmpty {
            comment("""
                If the server has a public IPv6 address, publish it too (or run again with --ip6 ADDRESS):
                \(hostname). \(ZoneFile.defaultTTL) IN AAAA <IPv6 address of this server>
                """)
        }
        blank()

        if addresses.isEmpty {
            comment("""
                SPF (RFC 7208): "mx" authorizes the addresses of \(domain)'s MX host (\(hostname)), the only
                server that sends its mail; "-all" tells receivers that nothing else may send as @\(domain).
                """)
        } else {
            comment("""
                SPF (RFC 7208): ip4:/ip6: authorize this server's addresses without further DNS lookups; "mx"
                also authorizes the MX host (\(hostname)), so mail still passes if the address changes and
                the A record follows; "-all" tells receivers that nothing else may send as @\(domain).
                """)
        }
        comment("""
            A name has only one SPF record: if \(domain) already has a "v=spf1 …" TXT, merge the two. If another
            service sends as @\(domain) (a newsletter tool, a web shop), add its include: before -all.
            """)
        record(spf)
        if let heloSPF {
            comment("SPF for the host name itself: receivers check it for bounces, whose sender is empty (RFC 7208 §2.3).")
            record(heloSPF)
        }
        blank()

        if dkimKeys.isEmpty {
            comment("""
                DKIM: no keys in \(dkimDirectory).
                Create them with `apus init \(domain)` (or `apus dkim keygen \(domain)`) and run this again.
                """)
        } else {
            let names = dkimKeys.map { "\($0.selector) (\($0.algorithm == .ed25519SHA256 ? "Ed25519, RFC 8463" : "RSA"))" }
            comment("""
                DKIM (RFC 6376): the public halves of the keys in \(dkimDirectory):
                \(names.joined(separator: ", ")). Apus signs mail from @\(domain) with every key;
                receivers check the ones they know (all of them check RSA).
                """)
            for r in dkim { record(r) }
        }
        blank()

        comment("""
            DMARC (RFC 7489): mail claiming to be from @\(domain) that passes neither SPF nor DKIM for \(domain)
            goes to the spam folder (p=quarantine). Your own mail leaves through this server, signed, so it
            passes. Use p=none while other services that send as @\(domain) are not yet set up, and p=reject
            once the daily reports (sent to \(reportAddress)) show only your own servers.
            \(reportAddress) receives these reports and the TLS-RPT ones: let it reach you with an alias
            (`postmaster: you` in domains/\(domain)/aliases); otherwise they go to the mailbox "postmaster".
            """)
        record(dmarc)
        blank()

        comment("""
            MTA-STS (RFC 8461): tells sending servers that \(hostname) has TLS with a valid certificate, and (in
            mode enforce) to deliver to it only that way. Senders use it only once this policy file is served at
            \(mtaSTSPolicyURL) (HTTPS with a valid certificate for mta-sts.\(domain);
            Apus does not serve it: any web host will do). Until then the record is ignored, so it is safe to
            publish now. "mode: testing" reports failures (see TLS-RPT) but still delivers: change it to
            "mode: enforce" once \(hostname) has a real certificate and the reports are clean. Whenever the
            file changes, change id too (any new value: `apus dns records` prints the current time).
            """)
        record(mtaSTS)
        comment("The policy file (lines end with CRLF):")
        for line in mtaSTSPolicy { out.append(";   \(line)") }
        blank()

        comment("TLS-RPT (RFC 8460): sending servers mail a daily report of TLS problems reaching \(domain).")
        record(tlsRPT)
        blank()

        comment("""
            PTR (reverse DNS): not in your zone. Ask the provider of this server's addresses (often a
            "reverse DNS" field in its control panel) to set the name of each address to \(hostname).
            Many receivers, Gmail among them, refuse or junk mail from an address whose reverse name does not
            lead back to it.
            """)
        if addresses.isEmpty {
            comment("  <address of \(hostname)>  PTR  \(hostname).   (run again with --ip/--ip6 for the exact names)")
        } else {
            for line in ptrLines { comment("  " + line) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: the table

    func table() -> String {
        var rows = records.map { (name: $0.name, type: $0.type, value: $0.plainValue) }
        var placeholders: [(name: String, type: String, value: String)] = []
        if ipv4.isEmpty { placeholders.append((hostname, "A", "<IPv4 address of this server>  (see below)")) }
        if ipv6.isEmpty { placeholders.append((hostname, "AAAA", "<IPv6 address of this server, if any>  (see below)")) }
        rows.insert(contentsOf: placeholders, at: 1 + hostAddresses.count)
        var notes: [String] = []
        notes.append("""
            Names are complete: most DNS providers' forms want only the part before "\(domain)"
              ("@" for \(domain) itself). Enter each TXT value in one piece; most providers split long ones.
              If yours refuses one longer than 255 characters, use the quoted strings of
              `apus dns records \(domain)` (without --table).
            """)
        if !placeholders.isEmpty {
            notes.append("A/AAAA: replace each <placeholder> with this server's public address, or run again with"
                         + "\n  --ip ADDRESS / --ip6 ADDRESS. Leave out AAAA when the server has no public IPv6 address.")
        }
        if !hostInZone { notes.append("\(hostname) is not in \(domain): its A/AAAA and TXT records go in its own zone.") }
        if dkimKeys.isEmpty {
            notes.append("DKIM: no keys in \(dkimDirectory);\n  create them with `apus init \(domain)`.")
        }
        notes.append("DMARC and TLS-RPT reports go to \(reportAddress): give it an alias that reaches you.")
        notes.append("""
            MTA-STS: serve this policy file at \(mtaSTSPolicyURL)
              (HTTPS with a valid certificate; Apus does not serve it), and change the id of the TXT record
              whenever the file changes:
            """ + mtaSTSPolicy.map { "\n      \($0)" }.joined())
        if addresses.isEmpty {
            notes.append("PTR: ask your hosting provider to set the reverse DNS of this server's addresses to \(hostname).")
        } else {
            notes.append("PTR: ask your hosting provider to set the reverse DNS of this server's addresses:"
                         + ptrLines.map { "\n      \($0)" }.joined())
        }
        return ZoneFile.table(rows) + "\n\n" + notes.map { "- " + $0 }.joined(separator: "\n") + "\n"
    }
}

/// Domain names and addresses given on the command line.
enum DomainArgument {
    /// Lowercased, without a final dot, with Unicode labels as A-labels (`xn--…`); an error when not a domain.
    static func normalize(_ text: String, what: String = "domain") throws -> String {
        var name = text.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if let why = ApusConfig.domainNameProblem(name) { throw ValidationError("\(what) \"\(text)\" is not a domain name: \(why)") }
        if !name.unicodeScalars.allSatisfy(\.isASCII) {
            do { name = try DNSName(name).description.lowercased() } catch {
                throw ValidationError("\(what) \"\(text)\" is not a valid internationalized domain name")
            }
        }
        guard name.contains(".") else {
            throw ValidationError("\(what) \"\(text)\" has no dot: write the full name, like example.com")
        }
        return name
    }

    /// The configured host name, normalized; an error naming apus.toml when it is not a full host name.
    static func hostname(of config: ApusConfig, configDirectory: String, domain: String) throws -> String {
        do { return try normalize(config.hostname, what: "hostname") } catch {
            throw CLIError("\(configDirectory)/apus.toml: hostname \"\(config.hostname)\" is not a full host name; set it to this server's name in DNS, like mx.\(domain)")
        }
    }

    /// The domain's DKIM keys (none when it has no dkim/ directory); an error names the bad key file.
    static func dkimKeys(configDirectory: String, domain: String) throws -> [DKIMSigningKey] {
        do { return try DKIMKeyStore.load(configDirectory: configDirectory, domain: domain) } catch {
            throw CLIError("\(error)")
        }
    }

    /// `--ip` values (IPv4; an IPv6 address is accepted too) and `--ip6` values (IPv6 only), without repeats.
    static func addresses(ipv4: [String], ipv6: [String]) throws -> [IPAddress] {
        var out: [IPAddress] = []
        for text in ipv4 {
            guard let ip = IPAddress(text) else { throw ValidationError("--ip \(text): not an IP address") }
            if !out.contains(ip) { out.append(ip) }
        }
        for text in ipv6 {
            guard let ip = IPAddress(text), !ip.isIPv4 else { throw ValidationError("--ip6 \(text): not an IPv6 address") }
            if !out.contains(ip) { out.append(ip) }
        }
        return out.filter(\.isIPv4) + out.filter { !$0.isIPv4 }
    }

    /// False for loopback, private, link-local, shared (CGNAT), multicast and other special ranges that the
    /// internet cannot reach (RFC 1918, RFC 6598, RFC 4193, RFC 4291).
    static func isGlobal(_ ip: IPAddress) -> Bool {
        let b = ip.bytes
        if ip.isIPv4 {
            switch (b[0], b[1]) {
            case (0, _), (10, _), (127, _), (169, 254), (192, 168): return false
            case (172, 16...31), (100, 64...127): return false
            default: return b[0] < 224
            }
        }
        if b.allSatisfy({ $0 == 0 }) || b == [UInt8](repeating: 0, count: 15) + [1] { return false }
        if b[0] & 0xFE == 0xFC { return false }                    // fc00::/7 unique local
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return false }    // fe80::/10 link-local
        if b[0] == 0xFF { return false }                           // multicast
        return true
    }
}
