import DNSCore
import Foundation
import NIOCore
import NIOSSL
import SMTPTransport

/// Listeners, outbound port 25 and DNS blocklists.
extension ServerChecker {
    /// Every configured listener answers with a 220 greeting (checked from this machine: a firewall may
    /// still block it from outside). An empty `mx` list is a problem (no mail arrives); a listener on a
    /// port other than the standard one is a warning (other servers deliver only to port 25; mail programs
    /// expect 587 and 465).
    func checkListeners() async -> [CheckFinding] {
        var findings: [CheckFinding] = []
        var insecure = TLSConfiguration.makeClientConfiguration()
        insecure.certificateVerification = .none
        let context = try? NIOSSLContext(configuration: insecure)
        for listener in listeners {
            if listener.addresses.isEmpty {
                if listener.name == "mx" {
                    findings.append(.problem("listener", "[listen] mx is empty: this server receives no mail from other servers",
                                             fix: "set mx = [\"0.0.0.0:25\", \"[::]:25\"] in apus.toml"))
                } else {
                    findings.append(.warning("listener", "[listen] \(listener.name) is empty: mail programs cannot submit on port \(listener.standardPort)"))
                }
                continue
            }
            for address in listener.addresses {
                let host = Self.connectHost(address)
                let target = host.contains(":") ? "[\(host)]:\(address.port)" : "\(host):\(address.port)"
                do {
                    let connection = try await SMTPClientConnection.connect(ip: host, port: address.port, timeouts: .all(timeout))
                    if listener.implicitTLS, let context {
                        _ = try await connection.startTLS(context: context, serverHostname: hostname)
                    }
                    let greeting = try await connection.readReply(timeout: timeout, waitingFor: "greeting")
                    await connection.quit()
                    let firstLine = greeting.lines.first ?? ""
                    guard greeting.code == 220 else {
                        findings.append(.problem("listener", "\(listener.name) \(target) answers \(greeting.code) \(firstLine), not 220",
                                                 fix: "check the server's log (journalctl -u apus)"))
                        continue
                    }
                    if address.port != listener.standardPort {
                        findings.append(.warning("listener", "\(listener.name) \(target) answers, but on port \(address.port): "
                                                 + (listener.name == "mx" ? "other servers deliver only to port 25"
                                                                          : "mail programs expect port \(listener.standardPort)"),
                                                 fix: "listen on port \(listener.standardPort) in [listen] \(listener.name) (needs root or CAP_NET_BIND_SERVICE)"))
                    } else {
                        findings.append(.ok("listener", "\(listener.name) \(target) answers: \(greeting.code) \(firstLine)"
                                            + (listener.implicitTLS ? " (TLS)" : "")))
                    }
                } catch {
                    findings.append(.problem("listener", "nothing answers on \(target) ([listen] \(listener.name)): \(Self.describe(error))",
                                             fix: "start the server (systemctl start apus, or apus serve) and read its log"))
                }
            }
        }
        return findings
    }

    /// Outbound port 25: connect to the MX of `outboundProbe` and expect a greeting. Many cloud providers
    /// block this port for new accounts; then nothing this server sends can leave.
    func checkOutbound(preferIPv6: Bool) async -> [CheckFinding] {
        let exchange: String
        switch await dns.mx(outboundProbe) {
        case .success(let records):
            guard let first = records.first(where: { !$0.isNullMX }) else {
                return [.warning("outbound", "cannot check outbound port \(smtpPort): \(outboundProbe) has no usable MX",
                                 fix: "use another domain with --outbound-probe DOMAIN")]
            }
            exchange = first.exchange.description
        case .failure(let failure):
            return [.warning("outbound", "cannot check outbound port \(smtpPort): no MX for \(outboundProbe) (\(failure))",
                             fix: "use another domain with --outbound-probe DOMAIN, or check the DNS server")]
        }
        let addresses: [IPAddress]
        switch await dns.addresses(exchange) {
        case .success(let list): addresses = list
        case .failure(let failure):
            return [.warning("outbound", "cannot check outbound port \(smtpPort): no address for \(exchange) (\(failure))")]
        }
        var tries = addresses.filter(\.isIPv4).prefix(1).map { $0 }
        if preferIPv6, let v6 = addresses.first(where: { !$0.isIPv4 }) { tries.insert(v6, at: 0) }
        if tries.isEmpty, let any = addresses.first { tries = [any] }
        var findings: [CheckFinding] = []
        for ip in tries {
            let family = ip.isIPv4 ? "IPv4" : "IPv6"
            do {
                let connection = try await SMTPClientConnection.connect(ip: ip.description, port: smtpPort, timeouts: .all(timeout))
                let greeting = try await connection.readReply(timeout: timeout, waitingFor: "greeting")
                await connection.quit()
                let line = "\(greeting.code) \(greeting.lines.first ?? "")"
                if greeting.code == 220 {
                    findings.append(.ok("outbound", "outbound port \(smtpPort) is open over \(family): \(exchange) (\(ip)) answered \(line)"))
                } else {
                    findings.append(.warning("outbound", "outbound port \(smtpPort) is open over \(family), but \(exchange) (\(ip)) answered \(line)",
                                             fix: "a refusal at connect often means this address is on a blocklist (see the dnsbl lines)"))
                }
            } catch {
                findings.append(.problem("outbound", "cannot reach \(exchange) (\(ip)) on port \(smtpPort) over \(family) (\(Self.describe(error))): mail to other servers will not leave",
                                         fix: "many providers block outbound port 25 (AWS, Google Cloud, Azure, DigitalOcean, …): ask yours to open it"))
            }
        }
        return findings
    }

    /// Spamhaus' zone, the list most receivers consult.
    static let blocklist = "zen.spamhaus.org"

    /// DNS blocklists refuse queries from large public resolvers (RFC 5782 §5 test entry `127.0.0.2`
    /// answers `127.255.255.254` then): a server using one cannot consult them, and its own listing cannot
    /// be seen. Then each IPv4 address of this server is looked up in the list.
    func checkBlocklists(_ ours: [IPAddress]) async -> [CheckFinding] {
        var findings: [CheckFinding] = []
        let resolverFix = "run a local resolver (apt install unbound) and set [dns] servers = [\"127.0.0.1:53\"] in apus.toml"
        switch await dns.lookup("2.0.0.127.\(Self.blocklist)", .a) {
        case .answer(let answer):
            let codes = answer.data.compactMap { data -> IPAddress? in if case .a(let ip) = data { return ip } else { return nil } }
            if let refusal = codes.first(where: { $0.bytes[0] == 127 && $0.bytes[1] == 255 }) {
                findings.append(.problem("dnsbl", "\(Self.blocklist) refuses this server's DNS resolver (answer \(refusal): \(Self.refusalReason(refusal)))",
                                         fix: resolverFix))
                return findings
            }
            findings.append(.ok("dnsbl", "DNS blocklists answer this server's resolver (\(Self.blocklist) test entry: \(codes.map(\.description).joined(separator: ", ")))"))
        case .nxdomain, .noData:
            findings.append(.warning("dnsbl", "\(Self.blocklist) gave no answer for its test entry 127.0.0.2: the resolver may be filtered",
                                     fix: resolverFix))
            return findings
        case let other:
            findings.append(.warning("dnsbl", "cannot check DNS blocklists: the lookup failed (\(other.failure.map(\.description) ?? "no answer"))"))
            return findings
        }
        for ip in ours where ip.isIPv4 {
            let name = ip.bytes.reversed().map(String.init).joined(separator: ".") + "." + Self.blocklist
            switch await dns.lookup(name, .a) {
            case .nxdomain, .noData:
                findings.append(.ok("dnsbl", "\(ip) is not listed in \(Self.blocklist)"))
            case .answer(let answer):
                let codes = answer.data.compactMap { data -> IPAddress? in if case .a(let ip) = data { return ip } else { return nil } }
                let lists = codes.map { "\($0) \(Self.listName($0))" }.joined(separator: ", ")
                findings.append(.problem("dnsbl", "\(ip) is listed in \(Self.blocklist) (\(lists)): many receivers refuse its mail",
                                         fix: "look it up at https://check.spamhaus.org/ for the reason and the way to delisting"))
            case let other:
                findings.append(.warning("dnsbl", "cannot check \(ip) in \(Self.blocklist) (\(other.failure.map(\.description) ?? "no answer"))"))
            }
        }
        return findings
    }

    /// Spamhaus' error answers (https://docs.spamhaus.com, "return codes").
    static func refusalReason(_ code: IPAddress) -> String {
        switch code.bytes[3] {
        case 252: return "typing error in the query"
        case 254: return "queries through a public or open resolver are refused"
        case 255: return "too many queries from this resolver"
        default: return "an error answer"
        }
    }

    static func listName(_ code: IPAddress) -> String {
        switch code.bytes[3] {
        case 2: return "SBL"
        case 3: return "SBL CSS"
        case 4...7: return "XBL, an infected or exploited host"
        case 9: return "DROP"
        case 10, 11: return "PBL, an address not meant to send mail directly"
        default: return "listed"
        }
    }
}
