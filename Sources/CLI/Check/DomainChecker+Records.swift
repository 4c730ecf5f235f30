import DKIM
import DMARC
import DNSCore
import Foundation
import SPF

/// The DNS half of `apus check`: MX, A/AAAA, PTR, SPF, DKIM, DMARC, TLS-RPT.
extension DomainChecker {
    var mxLine: String { "\(domain). 3600 IN MX 10 \(hostname)." }

    /// The MX records of the domain must name this server's host name (RFC 5321 §5.1).
    func checkMX() async -> [CheckFinding] {
        let records: [MXRecord]
        switch await dns.mx(domain) {
        case .success(let list): records = list
        case .failure(.nxdomain):
            return [.problem("mx", "\(domain) does not exist in DNS (NXDOMAIN)",
                             fix: "check that the domain is registered and its name servers serve the zone, then publish: \(mxLine)")]
        case .failure(.noData): records = []
        case .failure(let failure): return [CheckFinding.lookupTrouble("mx", "MX of \(domain)", failure)]
        }
        if records.isEmpty {
            return [.problem("mx", "\(domain) has no MX record: other servers do not know where to deliver its mail",
                             fix: "publish: \(mxLine)")]
        }
        if records.contains(where: \.isNullMX) {
            return [.problem("mx", "\(domain) has a null MX (\"0 .\", RFC 7505): it declares that it receives no mail",
                             fix: "replace it with: \(mxLine)")]
        }
        let list = records.map { "\($0.exchange) (preference \($0.preference))" }.joined(separator: ", ")
        guard let mine = records.first(where: { Self.sameName($0.exchange.description, hostname) }) else {
            return [.problem("mx", "MX of \(domain) is \(list), not this server (\(hostname))",
                             fix: "point the MX at this server: \(mxLine) (or set hostname in apus.toml to the MX host)")]
        }
        let before = records.filter { $0.preference < mine.preference }
        if !before.isEmpty {
            let names = before.map(\.exchange.description).joined(separator: ", ")
            return [.warning("mx", "MX of \(domain): \(hostname) has preference \(mine.preference), but \(names) is tried first",
                             fix: "unless \(names) is a backup that forwards to this server, remove it or give \(hostname) the lowest preference")]
        }
        return [.ok("mx", "MX: \(domain) → \(hostname) (preference \(mine.preference))"
                    + (records.count > 1 ? "; all MX: \(list)" : ""))]
    }

    /// The host name's A/AAAA records must be this server's addresses, and not behind a CNAME
    /// (RFC 2181 §10.3). Also finds the addresses the later checks use.
    func checkHostAddresses() async -> (findings: [CheckFinding], addresses: Addresses) {
        var findings: [CheckFinding] = []
        var addresses = Addresses()
        if let answer = await dns.lookup(hostname, .a).answer, !answer.cnameChain.isEmpty {
            findings.append(.problem("address", "\(hostname) is a CNAME (to \(answer.canonicalName)): an MX host must have its own A/AAAA records (RFC 2181 §10.3)",
                                     fix: "replace the CNAME with A/AAAA records for \(hostname)"))
        }
        var lookupAnswered = true
        switch await dns.addresses(hostname) {
        case .success(let list): addresses.published = list.filter(\.isIPv4) + list.filter { !$0.isIPv4 }
        case .failure(.nxdomain), .failure(.noData):
            let mine = declaredAddresses.isEmpty ? publicInterfaceAddresses : declaredAddresses
            let records = mine.isEmpty ? ["\(hostname). 3600 IN A <this server's IPv4 address>"]
                : mine.map { "\(hostname). 3600 IN \(Self.recordType($0)) \($0)" }
            findings.append(.problem("address", "\(hostname) has no A or AAAA record: nobody can connect to it",
                                     fix: "publish: " + records.joined(separator: "  and  ")))
            lookupAnswered = false   // that fix already names every address
        case .failure(let failure):
            lookupAnswered = false
            findings.append(CheckFinding.lookupTrouble("address", "A/AAAA of \(hostname)", failure))
        }
        for ip in addresses.published {
            let record = "\(hostname) \(Self.recordType(ip)) \(ip)"
            if !declaredAddresses.isEmpty {
                if declaredAddresses.contains(ip) {
                    findings.append(.ok("address", "\(record) is this server"))
                    addresses.ours.append(ip)
                } else {
                    let given = declaredAddresses.map(\.description).joined(separator: ", ")
                    findings.append(.problem("address", "\(record) is not this server (--ip \(given))",
                                             fix: "change or remove that \(Self.recordType(ip)) record of \(hostname)"))
                }
            } else if isLocal(ip) {
                findings.append(.ok("address", "\(record) is an address of this machine"))
                addresses.ours.append(ip)
            } else if !publicInterfaceAddresses.contains(where: { $0.isIPv4 == ip.isIPv4 }) {
                findings.append(.warning("address", "\(record) is not on this machine's interfaces; fine if the provider forwards it here (NAT, as on AWS or Google Cloud)",
                                         fix: "if \(ip) is this server's public address, say so: apus check \(domain) --ip \(ip)"))
                addresses.ours.append(ip)
            } else {
                let mine = publicInterfaceAddresses.filter { $0.isIPv4 == ip.isIPv4 }.map(\.description).joined(separator: ", ")
                findings.append(.problem("address", "\(record) is not this machine (its public address: \(mine))",
                                         fix: "change the \(Self.recordType(ip)) record of \(hostname) to \(mine)"))
            }
        }
        let extra = declaredAddresses.isEmpty ? publicInterfaceAddresses : declaredAddresses
        for ip in extra where !addresses.published.contains(ip) {
            guard lookupAnswered else {   // unknown, or already reported: no finding, but still check it
                addresses.ours.append(ip)
                continue
            }
            let line = "\(hostname). 3600 IN \(Self.recordType(ip)) \(ip)"
            if declaredAddresses.isEmpty {
                findings.append(.warning("address", "this machine's public address \(ip) is not in the \(Self.recordType(ip)) records of \(hostname): mail sent from it fails reverse-DNS checks",
                                         fix: "publish: \(line)"))
            } else {
                findings.append(.problem("address", "this server's address \(ip) is not in the \(Self.recordType(ip)) records of \(hostname)",
                                         fix: "publish: \(line)"))
            }
            addresses.ours.append(ip)
        }
        return (findings, addresses)
    }

    /// Each address's PTR must name the host name, and the host name must resolve back to the address
    /// (forward-confirmed reverse DNS): many receivers refuse mail otherwise, Gmail among them.
    func checkReverseDNS(_ addresses: Addresses) async -> [CheckFinding] {
        var findings: [CheckFinding] = []
        for ip in addresses.ours {
            var fix = "ask the provider of \(ip) (a \"reverse DNS\" field in its control panel) to set its name to \(hostname)"
            if !ip.isIPv4 {
                // Gmail refuses mail over IPv6 from an address without a matching PTR (550 5.7.25).
                fix += "; until then send over IPv4 only: [delivery] ip_version = \"ipv4\" in apus.toml"
            }
            let names: [DNSName]
            switch await dns.ptr(for: ip) {
            case .success(let list): names = list
            case .failure(.nxdomain), .failure(.noData): names = []
            case .failure(let failure):
                findings.append(CheckFinding.lookupTrouble("ptr", "reverse DNS of \(ip)", failure))
                continue
            }
            if names.isEmpty {
                findings.append(.problem("ptr", "\(ip) has no reverse DNS (PTR record)", fix: fix))
            } else if !names.contains(where: { Self.sameName($0.description, hostname) }) {
                let list = names.map(\.description).joined(separator: ", ")
                findings.append(.problem("ptr", "reverse DNS of \(ip) is \(list), not \(hostname)", fix: fix))
            } else if !addresses.published.contains(ip) {
                findings.append(.problem("ptr", "reverse DNS of \(ip) is \(hostname), but \(hostname) does not resolve back to \(ip)",
                                         fix: "publish: \(hostname). 3600 IN \(Self.recordType(ip)) \(ip)"))
            } else {
                findings.append(.ok("ptr", "reverse DNS: \(ip) → \(hostname) → \(ip) (forward-confirmed)"))
            }
        }
        return findings
    }

    /// The SPF record this server's addresses would need: `v=spf1 ip4:… ip6:… mx -all`.
    func suggestedSPF(_ ours: [IPAddress]) -> String {
        (["v=spf1"] + ours.map { ($0.isIPv4 ? "ip4:" : "ip6:") + $0.description } + ["mx", "-all"]).joined(separator: " ")
    }

    /// One valid SPF record (RFC 7208 §4.5) that gives `pass` for every address of this server, within
    /// the limit of 10 DNS-querying terms (§4.6.4, a `permerror` otherwise), and does not end in `+all`.
    /// The host name's own SPF (checked for bounces, §2.3) is a warning when missing.
    func checkSPF(_ ours: [IPAddress]) async -> [CheckFinding] {
        var findings: [CheckFinding] = []
        let suggested = suggestedSPF(ours)
        switch await spfRecord(of: domain, suggested: suggested) {
        case .failure(let trouble):
            return [trouble.finding]
        case .success(let record):
            if let weak = weakAll(record) {
                findings.append(weak)
            }
            if ours.isEmpty {
                findings.append(.warning("spf", "SPF of \(domain): cannot tell whether it authorizes this server, whose address is unknown",
                                         fix: "run again with --ip ADDRESS"))
            }
            let verifier = SPFVerifier(resolver: dns, options: SPFOptions(receiver: hostname, timestamp: Int(now.timeIntervalSince1970)))
            for ip in ours {
                let result = await verifier.checkMailFrom(ip: ip, mailFrom: "postmaster@\(domain)", helo: hostname)
                findings.append(spfFinding("spf", domain, ip, result, record: record))
            }
        }
        if !Self.sameName(hostname, domain) {
            switch await spfRecord(of: hostname, suggested: "v=spf1 a -all") {
            case .failure:
                findings.append(.warning("spf-helo", "\(hostname) has no SPF record; receivers check it for bounces, whose sender is empty (RFC 7208 §2.3)",
                                         fix: "publish: \(hostname). 3600 IN TXT \"v=spf1 a -all\""))
            case .success(let record):
                let verifier = SPFVerifier(resolver: dns, options: SPFOptions(receiver: hostname, timestamp: Int(now.timeIntervalSince1970)))
                for ip in ours {
                    let result = await verifier.checkHELO(ip: ip, helo: hostname)
                    findings.append(spfFinding("spf-helo", hostname, ip, result, record: record))
                }
            }
        }
        return findings
    }

    /// The one SPF record of `name`, or a finding saying why there is none (its fix shows `suggested`).
    func spfRecord(of name: String, suggested: String) async -> Result<String, SPFRecordTrouble> {
        let check = name == domain ? "spf" : "spf-helo"
        let texts: [String]
        switch await TXTLookup.of(name, in: dns, check: check, what: "SPF of \(name)") {
        case .records(let list): texts = list
        case .trouble(let finding): return .failure(SPFRecordTrouble(finding: finding))
        }
        let records = texts.filter { SPFRecord.isSPFRecord(Array($0.utf8)) }
        if records.isEmpty {
            return .failure(SPFRecordTrouble(finding: .problem(
                check, "\(name) has no SPF record: receivers cannot tell which servers may send as @\(name)",
                fix: "publish: \(name). 3600 IN TXT \"\(suggested)\"")))
        }
        if records.count > 1 {
            return .failure(SPFRecordTrouble(finding: .problem(
                check, "\(name) has \(records.count) SPF records; receivers then treat SPF as broken (permerror, RFC 7208 §4.5)",
                fix: "merge them into one, like: \(suggested)")))
        }
        do {
            _ = try SPFRecord.parse(records[0])
        } catch {
            return .failure(SPFRecordTrouble(finding: .problem(
                check, "SPF record of \(name) is invalid (\(error)): \"\(records[0])\"",
                fix: "replace it, for example with: \(suggested)")))
        }
        return .success(records[0])
    }

    struct SPFRecordTrouble: Error {
        let finding: CheckFinding
    }

    /// `+all` (or a bare `all`) lets every server send as the domain; `?all` says nothing.
    func weakAll(_ record: String) -> CheckFinding? {
        guard let last = record.split(separator: " ").last(where: { $0.lowercased().hasSuffix("all") }) else { return nil }
        switch last.lowercased() {
        case "all", "+all":
            return .problem("spf", "SPF of \(domain) ends in \(last): it authorizes every server on the internet to send as @\(domain)",
                            fix: "end it with -all (or ~all while you test)")
        case "?all":
            return .warning("spf", "SPF of \(domain) ends in ?all (neutral): receivers learn nothing about other servers",
                            fix: "end it with -all once every server that sends as @\(domain) is listed")
        default:
            return nil
        }
    }

    func spfFinding(_ check: String, _ name: String, _ ip: IPAddress, _ result: SPFCheckResult, record: String) -> CheckFinding {
        switch result.result {
        case .pass:
            return .ok(check, "SPF of \(name) authorizes \(ip) (pass\(result.mechanism.map { ", by \($0)" } ?? ""))")
        case .permerror:
            return .problem(check, "SPF of \(name) is broken: permerror for \(ip) (\(result.problem ?? "invalid record"))",
                            fix: "simplify it to at most 10 DNS-querying terms (include, a, mx, ptr, exists, redirect), like: \(suggestedSPF([ip]))")
        case .temperror:
            return .warning(check, "SPF of \(name) for \(ip): cannot check (temperror: \(result.problem ?? "DNS failure"))")
        default:
            let term = (ip.isIPv4 ? "ip4:" : "ip6:") + ip.description
            var terms = record.split(separator: " ").map(String.init)
            terms.insert(term, at: min(1, terms.count))
            return .problem(check, "SPF of \(name) does not authorize \(ip) (\(result.result)): receivers may refuse or junk mail from this server",
                            fix: "add \(term): \(name). 3600 IN TXT \"\(terms.joined(separator: " "))\"")
        }
    }

    /// Every local DKIM key must be published, unchanged, at `<selector>._domainkey.<domain>` (RFC 6376 §3.6.2).
    func checkDKIM() async -> [CheckFinding] {
        if dkimKeys.isEmpty {
            return [.problem("dkim", "no DKIM keys in \(dkimDirectory): mail from @\(domain) leaves unsigned",
                             fix: "run `apus init \(domain)`, then publish the DKIM records from `apus dns records \(domain)`")]
        }
        var findings: [CheckFinding] = []
        for key in dkimKeys {
            let name = key.recordName
            let file = "\(dkimDirectory)/\(key.selector).pem"
            let fix = "publish the \(key.selector) record printed by `apus dns records \(domain)`"
            let texts: [String]
            switch await TXTLookup.of(name, in: dns, check: "dkim", what: "DKIM key \(name)") {
            case .records(let list): texts = list
            case .trouble(let finding):
                findings.append(finding)
                continue
            }
            if texts.isEmpty {
                findings.append(.problem("dkim", "\(name) has no TXT record: receivers cannot verify signatures by the key \(file)", fix: fix))
                continue
            }
            var parsed: [DKIMKeyRecord] = []
            var lastError = ""
            for text in texts {
                do { parsed.append(try DKIMKeyRecord.parse(text)) } catch { lastError = "\(error)" }
            }
            guard let record = parsed.first else {
                findings.append(.problem("dkim", "\(name) is not a valid DKIM key record (\(lastError))", fix: "replace it: \(fix)"))
                continue
            }
            let local = Data(base64Encoded: key.publicKeyBase64).map(Array.init) ?? []
            if parsed.count > 1 {
                findings.append(.problem("dkim", "\(name) has \(parsed.count) DKIM key records; receivers pick one at random (RFC 6376 §3.6.2.2)",
                                         fix: "keep only the record printed by `apus dns records \(domain)`"))
            } else if record.isRevoked {
                findings.append(.problem("dkim", "\(name) has an empty p= (a revoked key): every signature by \(file) fails", fix: "replace it: \(fix)"))
            } else if record.keyType != key.algorithm.keyType {
                findings.append(.problem("dkim", "\(name) says k=\(record.keyType), but \(file) is a \(key.algorithm.keyType) key", fix: "replace it: \(fix)"))
            } else if record.publicKey != local {
                findings.append(.problem("dkim", "\(name) holds a different key than \(file): signatures by this server fail",
                                         fix: "replace it: \(fix)"))
            } else if record.isTesting {
                findings.append(.warning("dkim", "\(name) matches \(file) but has t=y (testing): receivers may ignore failures",
                                         fix: "remove t=y from the record"))
            } else if key.isWeak {
                findings.append(.warning("dkim", "\(name) matches \(file), but it is a weak RSA-\(key.rsaBits ?? 0) key (RFC 8301: at least 2048 bits)",
                                         fix: "rotate: `apus dkim keygen \(domain) --selector NEW`, publish the new record, wait a day, then delete \(file)"))
            } else {
                let kind = key.algorithm == .ed25519SHA256 ? "Ed25519" : "RSA"
                findings.append(.ok("dkim", "DKIM: \(name) matches \(file) (\(kind))"))
            }
        }
        return findings
    }

    var dmarcLine: String { "_dmarc.\(domain). 3600 IN TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@\(domain)\"" }

    /// One valid DMARC record at `_dmarc.<domain>` (RFC 7489 §6.1); `p=none` is a warning.
    func checkDMARC() async -> [CheckFinding] {
        let name = "_dmarc.\(domain)"
        let texts: [String]
        switch await TXTLookup.of(name, in: dns, check: "dmarc", what: "DMARC of \(domain)") {
        case .records(let list): texts = list
        case .trouble(let finding): return [finding]
        }
        let records = texts.filter(DMARCRecord.isDMARCRecord)
        if records.isEmpty, let inherited = await inheritedDMARC() {
            return [inherited]
        }
        if records.isEmpty {
            return [.problem("dmarc", "\(domain) has no DMARC record (\(name)): nothing stops others from sending as @\(domain), and Gmail and Yahoo want one",
                             fix: "publish: \(dmarcLine)")]
        }
        if records.count > 1 {
            return [.problem("dmarc", "\(name) has \(records.count) DMARC records; receivers then ignore DMARC (RFC 7489 §6.6.3)",
                             fix: "keep one, like: \(dmarcLine)")]
        }
        let record: DMARCRecord
        do { record = try DMARCRecord(parsing: records[0]) } catch {
            return [.problem("dmarc", "DMARC record of \(domain) is invalid (\(error)): \"\(records[0])\"", fix: "replace it: \(dmarcLine)")]
        }
        let reports = record.aggregateReportURIs.isEmpty
            ? "no rua=, so no reports" : "reports to \(record.aggregateReportURIs.map(\.uri).joined(separator: ", "))"
        if record.policy == .none {
            return [.warning("dmarc", "DMARC of \(domain) is p=none (\(reports)): receivers take no action on mail that fails",
                             fix: "move to p=quarantine, then p=reject, once the reports show only your own servers")]
        }
        return [.ok("dmarc", "DMARC: p=\(record.policy.rawValue) (\(reports))")]
    }

    /// For a subdomain without its own record: the organizational domain's record applies, with its `sp=`
    /// (RFC 7489 §6.6.3 step 3, §6.3).
    func inheritedDMARC() async -> CheckFinding? {
        guard case .found(let record, let policyDomain) = await DMARCPolicyDiscovery().discover(fromDomain: domain, resolver: dns),
              policyDomain != domain else { return nil }
        let policy = record.subdomainPolicy ?? record.policy
        let message = "DMARC: no record at _dmarc.\(domain); the one of \(policyDomain) applies to it: "
            + (record.subdomainPolicy == nil ? "p=\(policy.rawValue)" : "sp=\(policy.rawValue)")
        if policy == .none {
            return .warning("dmarc", message + ": receivers take no action on mail that fails",
                            fix: "publish \(dmarcLine), or set sp= in _dmarc.\(policyDomain)")
        }
        return .ok("dmarc", message)
    }

    /// A TLS-RPT record (RFC 8460 §3) is optional: a warning when missing, a problem when broken.
    func checkTLSRPT() async -> [CheckFinding] {
        let name = "_smtp._tls.\(domain)"
        let line = "\(name). 3600 IN TXT \"v=TLSRPTv1; rua=mailto:postmaster@\(domain)\""
        let texts: [String]
        switch await TXTLookup.of(name, in: dns, check: "tls-rpt", what: "TLS-RPT of \(domain)") {
        case .records(let list): texts = list
        case .trouble(let finding): return [finding]
        }
        let records = texts.filter { $0.hasPrefix("v=TLSRPTv1") }
        if records.isEmpty {
            return [.warning("tls-rpt", "\(domain) has no TLS-RPT record (optional): you will not hear about senders' TLS failures",
                             fix: "publish: \(line)")]
        }
        if records.count > 1 {
            return [.problem("tls-rpt", "\(name) has \(records.count) TLS-RPT records; senders then ignore them (RFC 8460 §3)",
                             fix: "keep one: \(line)")]
        }
        guard let rua = records[0].split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) })
            .first(where: { $0.hasPrefix("rua=") }) else {
            return [.problem("tls-rpt", "TLS-RPT record of \(domain) has no rua=: \"\(records[0])\"", fix: "replace it: \(line)")]
        }
        return [.ok("tls-rpt", "TLS-RPT: reports to \(rua.dropFirst(4))")]
    }
}
