import Certificates
import Config
import DNSCore
import Delivery
import Foundation
import Logging
import NIOCore
import NIOSSL
import SMTPTransport

/// The machine half of `apus check`: MTA-STS policy, the certificate, the listeners, outbound port 25 and
/// DNS blocklists. Connections go to this machine's own listeners, to the MTA-STS host of the domain, and
/// (for outbound port 25) to the MX of `outboundProbe` — resolved with the same DNS server as the rest.
struct ServerChecker: Sendable {
    struct Listener: Sendable {
        /// `mx`, `submission`, `submissions` (the `[listen]` key).
        var name: String
        var standardPort: Int
        var implicitTLS: Bool
        var addresses: [ListenAddress]
    }

    var domain: String
    var hostname: String
    var dns: any DNSResolving
    var listeners: [Listener]
    var certsDirectory: String
    /// PEM file of trusted CAs (`[delivery] ca_file`); empty means the system store.
    var caFile: String
    /// `[delivery] smtp_port`: 25 on the internet.
    var smtpPort: Int
    /// A domain whose MX accepts connections from anywhere, to see whether outbound port 25 is open.
    var outboundProbe: String
    var mtaSTSPort: Int = 443
    var timeout: TimeAmount = .seconds(10)
    var now: Date = Date()

    static func listeners(_ config: ApusConfig) -> [Listener] {
        [Listener(name: "mx", standardPort: 25, implicitTLS: false, addresses: config.listen.mx),
         Listener(name: "submission", standardPort: 587, implicitTLS: false, addresses: config.listen.submission),
         Listener(name: "submissions", standardPort: 465, implicitTLS: true, addresses: config.listen.submissions)]
    }

    /// Where to connect to reach a listener from this machine: a wildcard address means loopback.
    static func connectHost(_ address: ListenAddress) -> String {
        switch address.host {
        case "0.0.0.0", "": return "127.0.0.1"
        case "::": return "::1"
        default: return address.host
        }
    }

    // MARK: MTA-STS

    /// The `_mta-sts` record and the policy it announces (RFC 8461 §3): optional, so a missing record or an
    /// unreachable policy is a warning; a policy in mode enforce that does not list this host is a problem.
    func checkMTASTS() async -> [CheckFinding] {
        let name = "_mta-sts.\(domain)"
        let url = "https://mta-sts.\(domain)/.well-known/mta-sts.txt"
        let texts: [String]
        switch await TXTLookup.of(name, in: dns, check: "mta-sts", what: "MTA-STS of \(domain)") {
        case .records(let list): texts = list
        case .trouble(let finding): return [finding]
        }
        let records = texts.filter { $0.hasPrefix("v=STSv1") }
        if records.isEmpty {
            return [.warning("mta-sts", "\(domain) has no MTA-STS record (optional): senders may fall back to plaintext if TLS is attacked",
                             fix: "publish the _mta-sts record and serve the policy printed by `apus dns records \(domain)`")]
        }
        if records.count > 1 {
            return [.problem("mta-sts", "\(name) has \(records.count) MTA-STS records; senders then ignore MTA-STS (RFC 8461 §3.1)",
                             fix: "keep one: \(name). 3600 IN TXT \"v=STSv1; id=<new id>\"")]
        }
        guard let id = MTASTSRecord.id(in: records[0]) else {
            return [.problem("mta-sts", "\(name) has no valid id= (1 to 32 letters and digits): \"\(records[0])\"",
                             fix: "publish: \(name). 3600 IN TXT \"v=STSv1; id=\(Self.timestampID(now))\"")]
        }
        var logger = Logger(label: "apus.check")
        logger.logLevel = .critical
        let text: String
        do {
            let store = try MTASTSPolicyStore(dns: dns, cacheDirectory: NSTemporaryDirectory(), caFile: caFile,
                                              port: mtaSTSPort, timeout: timeout, logger: logger)
            text = try await store.fetchPolicyText(domain)
        } catch {
            return [.warning("mta-sts", "MTA-STS record id=\(id) is published, but the policy cannot be fetched from \(url) (\(Self.describe(error))); senders ignore MTA-STS until it can",
                             fix: "serve the policy printed by `apus dns records \(domain)` there, over HTTPS with a valid certificate for mta-sts.\(domain)")]
        }
        let policy: MTASTSPolicy
        do { policy = try MTASTSPolicy.parse(text) } catch {
            return [.problem("mta-sts", "the MTA-STS policy at \(url) is invalid (\(error))",
                             fix: "serve the policy printed by `apus dns records \(domain)`, then change the id of \(name)")]
        }
        let mx = policy.mx.joined(separator: ", ")
        switch policy.mode {
        case .none:
            return [.warning("mta-sts", "MTA-STS policy of \(domain) is mode none: switched off",
                             fix: "use mode testing, then enforce once \(hostname) has a certificate from a CA")]
        case .enforce where !policy.matches(hostname):
            return [.problem("mta-sts", "MTA-STS policy of \(domain) (mode enforce) lists mx \(mx), not \(hostname): senders that honour it refuse to deliver here",
                             fix: "add \"mx: \(hostname)\" to the policy at \(url) and change the id of \(name)")]
        case .testing where !policy.matches(hostname):
            return [.warning("mta-sts", "MTA-STS policy of \(domain) (mode testing) lists mx \(mx), not \(hostname): senders report failures",
                             fix: "add \"mx: \(hostname)\" to the policy at \(url) and change the id of \(name)")]
        default:
            return [.ok("mta-sts", "MTA-STS: mode \(policy.mode.rawValue), mx \(mx), id \(id)")]
        }
    }

    static func timestampID(_ date: Date) -> String { utc(date, "yyyyMMddHHmmss") }

    // MARK: certificate

    /// A certificate for the host name in `certs/`, valid for at least 14 more days, and trusted: the TLS
    /// handshake with a listener verifies it against the trust store (`ca_file` or the system's). A
    /// self-signed certificate is a warning (DESIGN.md §4): other servers accept it for STARTTLS.
    func checkCertificate() async -> [CheckFinding] {
        let set: CertificateSet
        do { set = try CertificateSet.load(certsDirectory: certsDirectory) } catch {
            return [.problem("certificate", "cannot load the certificates: \(error)",
                             fix: "put the certificate chain in fullchain.pem and its key in privkey.pem (PEM)")]
        }
        guard let entry = set.entries.first(where: { $0.matches(hostname) }) else {
            return [.problem("certificate", "no certificate for \(hostname) in \(certsDirectory)",
                             fix: "run `apus init \(domain)` for a self-signed one, or get one from a CA into \(certsDirectory)/\(hostname)/ (docs/install.md)")]
        }
        let file = "\(certsDirectory)/\(entry.name)/fullchain.pem"
        let until = Self.day(entry.notValidAfter)
        let daysLeft = Int(entry.notValidAfter.timeIntervalSince(now) / 86_400)
        let renew = "renew it (certbot renew, or acme.sh --cron); Apus serves the new files within seconds, no restart"
        if entry.notValidAfter <= now {
            return [.problem("certificate", "certificate for \(hostname) expired on \(until) (\(file))", fix: renew)]
        }
        if entry.notValidBefore > now {
            return [.problem("certificate", "certificate for \(hostname) is not valid before \(Self.day(entry.notValidBefore)) (\(file)): check this machine's clock",
                             fix: "set the clock right (timedatectl set-ntp true)")]
        }
        if daysLeft < 14 {
            return [.problem("certificate", "certificate for \(hostname) expires in \(daysLeft) days, on \(until) (\(file)): renewal is not happening",
                             fix: renew)]
        }
        let selfSigned = "certificate for \(hostname) is self-signed (\(file)): servers still encrypt to it, but MTA-STS enforce and mail programs need one from a CA"
        let getOne = "get one with certbot or acme.sh into \(certsDirectory)/\(hostname)/ (docs/install.md)"
        // The system store never trusts a self-signed certificate: no handshake that would only fail (and
        // leave a TLS error in the server's log).
        if entry.isSelfSigned && caFile.isEmpty { return [.warning("certificate", selfSigned, fix: getOne)] }
        guard let verdict = await verifyServedCertificate() else {
            if entry.isSelfSigned { return [.warning("certificate", selfSigned, fix: getOne)] }
            return [.warning("certificate", "certificate for \(hostname) valid until \(until); cannot check that it is trusted: no TLS listener answers",
                             fix: "start `apus serve`, then run the check again")]
        }
        switch verdict {
        case .success(let listener):
            return [.ok("certificate", "certificate for \(hostname) is trusted (checked on \(listener)), valid until \(until) (\(daysLeft) days)")]
        case .failure(let error):
            if entry.isSelfSigned { return [.warning("certificate", selfSigned, fix: getOne)] }
            return [.problem("certificate", "certificate served for \(hostname) does not verify: \(error)",
                             fix: "fullchain.pem must hold the certificate followed by the CA's intermediate certificates")]
        }
    }

    struct VerifyError: Error, CustomStringConvertible { let description: String }

    /// A verifying TLS handshake with the first TLS listener that answers; nil when none does.
    func verifyServedCertificate() async -> Result<String, VerifyError>? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        if !caFile.isEmpty { configuration.trustRoots = .file(caFile) }
        guard let context = try? NIOSSLContext(configuration: configuration) else { return nil }
        let order = listeners.filter(\.implicitTLS) + listeners.filter { !$0.implicitTLS }.reversed()
        for listener in order {
            for address in listener.addresses {
                let host = Self.connectHost(address)
                guard let connection = try? await SMTPClientConnection.connect(ip: host, port: address.port, timeouts: .all(timeout)) else {
                    continue
                }
                let label = "\(listener.name) \(address)"
                do {
                    if listener.implicitTLS {
                        _ = try await connection.startTLS(context: context, serverHostname: hostname)
                        _ = try await connection.readReply(timeout: timeout, waitingFor: "greeting")
                    } else {
                        guard try await connection.readReply(timeout: timeout, waitingFor: "greeting").code == 220,
                              try await connection.command("EHLO \(hostname)").code == 250,
                              try await connection.command("STARTTLS").code == 220 else {
                            await connection.quit()
                            continue
                        }
                        _ = try await connection.startTLS(context: context, serverHostname: hostname)
                    }
                    await connection.quit()
                    return .success(label)
                } catch {
                    await connection.close()
                    return .failure(VerifyError(description: "\(Self.describe(error)) (on \(label))"))
                }
            }
        }
        return nil
    }

    /// BoringSSL's errors in words an administrator can act on.
    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS: the certificate is not trusted, expired or not valid for the name"
        }
        if text.contains("handshakeFailed") || text.contains("sslError") { return "TLS handshake failed" }
        for (errnoText, words) in [("Connection refused", "connection refused"), ("timed out", "timed out"),
                                   ("Network is unreachable", "network unreachable"), ("No route to host", "no route to host"),
                                   ("Permission denied", "permission denied")] where text.contains(errnoText) {
            return words
        }
        if text.contains("timeout") { return "timed out" }
        return text
    }

    static func day(_ date: Date) -> String { utc(date, "yyyy-MM-dd") }

    static func utc(_ date: Date, _ format: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = format
        return formatter.string(from: date)
    }
}
