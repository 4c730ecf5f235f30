import DNSCore

/// Which address families outbound SMTP uses and from which of our addresses (`[delivery] ip_version`,
/// `source_ipv4`, `source_ipv6`). Gmail refuses mail over IPv6 from an address without a matching PTR, so an
/// administrator without IPv6 reverse DNS sets `ip_version = "ipv4"`. Pure.
public struct OutboundAddresses: Sendable, Hashable {
    public enum IPVersion: String, Sendable, CaseIterable {
        case both, ipv4, ipv6
    }

    public var ipVersion: IPVersion
    /// Our IPv4 address to connect from; nil lets the kernel choose.
    public var sourceIPv4: String?
    /// Our IPv6 address to connect from; nil lets the kernel choose.
    public var sourceIPv6: String?

    public init(ipVersion: IPVersion = .both, sourceIPv4: String? = nil, sourceIPv6: String? = nil) {
        self.ipVersion = ipVersion
        self.sourceIPv4 = sourceIPv4
        self.sourceIPv6 = sourceIPv6
    }

    /// The addresses of a host that may be used, in their order (IPv6 first as resolved, when both).
    public func usable(_ addresses: [IPAddress]) -> [IPAddress] {
        switch ipVersion {
        case .both: return addresses
        case .ipv4: return addresses.filter(\.isIPv4)
        case .ipv6: return addresses.filter { !$0.isIPv4 }
        }
    }

    /// The source address for a connection to `ip` (an address literal).
    public func source(for ip: String) -> String? {
        guard let address = IPAddress(ip) else { return nil }
        return address.isIPv4 ? sourceIPv4 : sourceIPv6
    }
}
