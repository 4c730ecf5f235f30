import DNSCore
import Foundation

/// One line of `apus check`: what was checked, how it went, and what to do about it.
///
/// `✓` all is well; `✗` a problem that stops mail from arriving, leaving or being trusted (the command then
/// exits 1); `!` a warning: something to improve, or something that cannot be checked from this machine
/// (DESIGN.md §4: a self-signed certificate and a missing MTA-STS policy are warnings, not problems).
struct CheckFinding: Sendable, Hashable, Encodable {
    enum Status: String, Sendable, Hashable, Encodable {
        case ok, problem, warning

        var symbol: String {
            switch self {
            case .ok: return "✓"
            case .problem: return "✗"
            case .warning: return "!"
            }
        }
    }

    /// Short area name, stable for scripts: mx, address, ptr, spf, spf-helo, dkim, dmarc, mta-sts, tls-rpt,
    /// certificate, dane, listener, outbound, dnsbl, dns.
    var check: String
    var status: Status
    var message: String
    /// One line saying what to do; nil when there is nothing to do.
    var fix: String?

    static func ok(_ check: String, _ message: String) -> CheckFinding {
        CheckFinding(check: check, status: .ok, message: message, fix: nil)
    }

    static func problem(_ check: String, _ message: String, fix: String) -> CheckFinding {
        CheckFinding(check: check, status: .problem, message: message, fix: fix)
    }

    static func warning(_ check: String, _ message: String, fix: String? = nil) -> CheckFinding {
        CheckFinding(check: check, status: .warning, message: message, fix: fix)
    }

    enum CodingKeys: String, CodingKey { case check, status, symbol, message, fix }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(check, forKey: .check)
        try c.encode(status, forKey: .status)
        try c.encode(status.symbol, forKey: .symbol)
        try c.encode(message, forKey: .message)
        try c.encodeIfPresent(fix, forKey: .fix)
    }
}

/// Everything `apus check` found, as text for people or JSON for programs.
struct CheckReport: Sendable, Encodable {
    var domain: String
    var hostname: String
    /// The DNS servers asked ("127.0.0.1:53"), or "/etc/resolv.conf" ones.
    var dnsServers: [String]
    var findings: [CheckFinding]
    /// How to run the check again (with the same --config), for the summary line.
    var again: String = ""

    var problems: Int { findings.filter { $0.status == .problem }.count }
    var warnings: Int { findings.filter { $0.status == .warning }.count }
    var passed: Bool { problems == 0 }

    /// One finding per line, starting with ✓, ✗ or !, its fix on the next line; a summary last.
    func text() -> String {
        var lines = ["Checking \(domain) (mail host \(hostname)) with DNS server \(dnsServers.joined(separator: ", "))", ""]
        for finding in findings {
            lines.append("\(finding.status.symbol) \(finding.message)")
            if let fix = finding.fix { lines.append("    fix: \(fix)") }
        }
        lines.append("")
        let checks = "\(findings.count) checks"
        let summary = "\(plural(problems, "problem")) (✗), \(plural(warnings, "warning")) (!)"
        if problems == 0 {
            lines.append(warnings == 0 ? "All \(checks) passed." : "\(checks): no problems, \(plural(warnings, "warning")) (!).")
        } else {
            lines.append("\(checks): \(summary). Fix the ✗ lines, then run `\(again.isEmpty ? "apus check \(domain)" : again)` again"
                         + " (DNS changes can take the record's TTL to be seen).")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self), let text = String(data: data, encoding: .utf8) else { return "{}\n" }
        return text + "\n"
    }

    enum CodingKeys: String, CodingKey { case domain, hostname, dnsServers = "dns_servers", findings, passed, problems, warnings }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(domain, forKey: .domain)
        try c.encode(hostname, forKey: .hostname)
        try c.encode(dnsServers, forKey: .dnsServers)
        try c.encode(passed, forKey: .passed)
        try c.encode(problems, forKey: .problems)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(findings, forKey: .findings)
    }

    private func plural(_ n: Int, _ word: String) -> String { n == 1 ? "1 \(word)" : "\(n) \(word)s" }
}

extension CheckFinding {
    /// A finding for a lookup that failed. NXDOMAIN and NODATA are answers the caller handles itself; this
    /// is for the rest: SERVFAIL is what every receiver will get too (a broken zone or DNSSEC), a timeout or
    /// REFUSED may be our own resolver's trouble, so it is a warning.
    static func lookupTrouble(_ check: String, _ what: String, _ failure: DNSFailure) -> CheckFinding {
        switch failure {
        case .serverFailure:
            return .problem(check, "\(what): the DNS lookup failed (SERVFAIL); receivers will fail the same way",
                            fix: "check the zone at your DNS provider (a DNSSEC error or an unreachable name server gives SERVFAIL)")
        case .malformed(let why):
            return .problem(check, "\(what): the DNS answer is malformed (\(why))",
                            fix: "check the record's syntax at your DNS provider")
        default:
            return .warning(check, "\(what): cannot check, the DNS lookup failed (\(failure))",
                            fix: "check that the DNS server answers (`apus dns lookup`), or ask another with --dns HOST:PORT")
        }
    }
}

/// The TXT strings of a name for a check: none for NXDOMAIN and NODATA, a finding for other failures.
enum TXTLookup {
    case records([String])
    case trouble(CheckFinding)

    static func of(_ name: String, in dns: any DNSResolving, check: String, what: String) async -> TXTLookup {
        switch await dns.txt(name) {
        case .success(let list): return .records(list)
        case .failure(.nxdomain), .failure(.noData): return .records([])
        case .failure(let failure): return .trouble(.lookupTrouble(check, what, failure))
        }
    }
}
