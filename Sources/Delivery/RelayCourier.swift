import DNSCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SMTPProtocol
import SMTPTransport

/// Route `smarthost`: every remote recipient handed to one relay (`[delivery] relay_host`), the usual answer
/// when a VPS provider blocks outbound port 25. TLS always, before any password: `relay_tls = "starttls"`
/// (submission, port 587: EHLO, STARTTLS, EHLO again) or `"tls"` (implicit TLS, port 465). The relay's
/// certificate is checked against `relay_host`'s name, or its IP address SAN when `relay_host` is an IP;
/// trust is the system store plus `[delivery] ca_file`. With credentials (`relay_auth_file`), AUTH PLAIN,
/// or LOGIN when the relay offers only that (RFC 4954, 4616). A refused login defers the mail: the fix is
/// on our side, and it should not bounce while the administrator corrects the file.
public struct RelayCourier: Courier {
    public enum Security: String, Sendable, CaseIterable {
        case starttls, tls
    }

    public struct Credentials: Sendable, Hashable {
        public var user: String
        public var password: String
        public init(user: String, password: String) {
            self.user = user
            self.password = password
        }

        /// `relay_auth_file`'s content: one line, "user password" (the password may contain spaces).
        public static func parse(_ text: String) -> Credentials? {
            let line = text.split(whereSeparator: \.isNewline).first { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
            guard let line else { return nil }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let space = trimmed.firstIndex(where: \.isWhitespace) else { return nil }
            let password = trimmed[space...].trimmingCharacters(in: .whitespaces)
            guard !password.isEmpty else { return nil }
            return Credentials(user: String(trimmed[..<space]), password: password)
        }
    }

    public let host: String
    public let port: Int
    public let security: Security
    public let credentials: Credentials?
    /// Our EHLO name.
    public let hostname: String
    let dns: any DNSResolving
    /// `ip_version`, `source_ipv4`, `source_ipv6`, as for the MX hosts.
    let outbound: OutboundAddresses
    let context: NIOSSLContext
    let timeouts: SMTPClientTimeouts
    let group: any EventLoopGroup
    let logger: Logger

    /// - Parameter caFile: extra trusted CAs (PEM) on top of the system store; empty for the store alone.
    public init(host: String, port: Int, security: Security, credentials: Credentials?, hostname: String,
                dns: any DNSResolving, caFile: String = "", timeouts: SMTPClientTimeouts = SMTPClientTimeouts(),
                outbound: OutboundAddresses = OutboundAddresses(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) throws {
        self.outbound = outbound
        self.host = host
        self.port = port
        self.security = security
        self.credentials = credentials
        self.hostname = hostname
        self.dns = dns
        self.timeouts = timeouts
        self.group = group
        self.logger = logger
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if !caFile.isEmpty { tls.additionalTrustRoots = [.file(caFile)] }
        self.context = try NIOSSLContext(configuration: tls)
    }

    /// `"host:port"`, `"[v6]:port"` or a bare host (then 587 for STARTTLS, 465 for implicit TLS).
    public static func parseHost(_ text: String, security: Security) -> (host: String, port: Int)? {
        let fallback = security == .tls ? 465 : 587
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return (host, fallback) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port) else { return nil }
            return (host, port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard !text.isEmpty, parts.count <= 2, !parts[0].isEmpty else { return nil }
        if parts.count == 1 { return (text, fallback) }
        guard let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
        return (String(parts[0]), port)
    }

    var isIPAddress: Bool { IPAddress(host) != nil }

    public func deliver(_ batch: DeliveryBatch) async -> [RecipientResult] {
        let addresses = batch.addresses
        var ips: [String]
        if isIPAddress {
            ips = [host]
        } else {
            switch await dns.addresses(host) {
            case .success(let list): ips = outbound.usable(list).map(\.description)
            case .failure(let failure):
                return RecipientResult.all(addresses, .temporary, .init(4, 4, 3), "smarthost \(host): address lookup failed: \(failure)")
            }
        }
        var lastError = "smarthost \(host) could not be reached"
        for ip in ips.prefix(RemoteCourier.maxAddressesPerHost) {
            switch await session(ip: ip, batch) {
            case .done(let results): return results
            case .tryNext(let why), .unfitForRequireTLS(let why):
                logger.info("smarthost \(host) [\(ip)]:\(port) not usable: \(why)")
                lastError = "smarthost \(host) [\(ip)]:\(port): \(why)"
            }
        }
        return RecipientResult.all(addresses, .temporary, .init(4, 4, 1), lastError)
    }
}
