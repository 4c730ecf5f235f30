import Config
import Delivery
import DNSCore
import Foundation
import Logging
import NIOCore

extension MailServer {
    /// The smarthost courier for `[delivery] relay_host`, nil when it is empty. The credentials file is read
    /// now; a missing or malformed one stops the start with a message naming it.
    static func relayCourier(_ config: ApusConfig, configDirectory: String, resolver: any DNSResolving,
                             group: any EventLoopGroup, logger: Logger) throws -> RelayCourier? {
        let d = config.delivery
        guard !d.relayHost.isEmpty else { return nil }
        let security = RelayCourier.Security(rawValue: d.relayTLS) ?? .starttls
        guard let (host, port) = RelayCourier.parseHost(d.relayHost, security: security) else {
            throw MailServerError("[delivery] relay_host \"\(d.relayHost)\" is not \"host:port\" (e.g. \"smtp.example.net:587\")")
        }
        return try RelayCourier(host: host, port: port, security: security,
                                credentials: try relayCredentials(config, configDirectory: configDirectory),
                                hostname: config.hostname, dns: resolver, caFile: d.caFile,
                                outbound: outboundAddresses(d), group: group, logger: logger)
    }

    /// `ip_version`, `source_ipv4`, `source_ipv6` for the couriers.
    static func outboundAddresses(_ d: ApusConfig.Delivery) -> OutboundAddresses {
        OutboundAddresses(ipVersion: OutboundAddresses.IPVersion(rawValue: d.ipVersion) ?? .both,
                          sourceIPv4: d.sourceIPv4.isEmpty ? nil : d.sourceIPv4,
                          sourceIPv6: d.sourceIPv6.isEmpty ? nil : d.sourceIPv6)
    }

    /// `relay_auth_file` (relative to the configuration directory unless absolute), parsed; nil when unset.
    public static func relayCredentials(_ config: ApusConfig, configDirectory: String) throws -> RelayCourier.Credentials? {
        let file = config.delivery.relayAuthFile
        guard !file.isEmpty else { return nil }
        let path = file.hasPrefix("/") ? file : "\(configDirectory)/\(file)"
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw MailServerError("\(path) ([delivery] relay_auth_file): cannot read: \(error.localizedDescription)")
        }
        guard let credentials = RelayCourier.Credentials.parse(text) else {
            throw MailServerError("\(path) ([delivery] relay_auth_file): expected one line \"user password\"")
        }
        return credentials
    }
}

/// A reason `apus serve` cannot start, naming the key or file to fix.
public struct MailServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
