import Config
import Delivery
import DNSCore
import Logging
import MailServer

/// The `delivery` finding of `apus check`: which way mail for other domains leaves (each domain's MX hosts,
/// or the smarthost of `[delivery] relay_host`), and for a smarthost whether its TLS and login work now.
enum RelayCheck {
    /// Nil when there is no smarthost (then the `outbound` port 25 check applies).
    static func check(_ config: ApusConfig, configDirectory: String, dns: any DNSResolving) async -> CheckFinding? {
        let d = config.delivery
        guard !d.relayHost.isEmpty else { return nil }
        let security = RelayCourier.Security(rawValue: d.relayTLS) ?? .starttls
        guard let (host, port) = RelayCourier.parseHost(d.relayHost, security: security) else {
            return .problem("delivery", "relay_host \"\(d.relayHost)\" is not \"host:port\"",
                            fix: "set [delivery] relay_host to the smarthost, e.g. \"smtp.example.net:587\"")
        }
        let credentials: RelayCourier.Credentials?
        do {
            credentials = try MailServer.relayCredentials(config, configDirectory: configDirectory)
        } catch {
            return .problem("delivery", "smarthost \(host):\(port): \(error)",
                            fix: "write one line \"user password\" into that file, readable by the apus user")
        }
        var logger = Logger(label: "apus.check")
        logger.logLevel = .critical
        let mode = "through the smarthost \(host):\(port) (\(security == .tls ? "implicit TLS" : "STARTTLS"))"
        do {
            let relay = try RelayCourier(host: host, port: port, security: security, credentials: credentials,
                                         hostname: config.hostname, dns: dns, caFile: d.caFile,
                                         timeouts: .all(.seconds(15)), logger: logger)
            if let trouble = await relay.checkLogin() {
                return .problem("delivery", "mail for other domains goes \(mode), but: \(trouble)",
                                fix: credentials == nil ? "check relay_host, relay_tls and ca_file in [delivery]"
                                    : "check the user and password in \(d.relayAuthFile), and relay_host, relay_tls, ca_file in [delivery]")
            }
        } catch {
            return .problem("delivery", "smarthost \(host):\(port): cannot set up TLS: \(error)",
                            fix: "check [delivery] ca_file")
        }
        let login = credentials.map { ", login as \($0.user) accepted" } ?? " (no relay_auth_file: no login)"
        return .ok("delivery", "mail for other domains goes \(mode)\(login)")
    }
}
