import DNSCore
import NIOCore

/// A DNS server to ask: an IP literal and a port. Text forms (as in `[dns] servers` of apus.toml and
/// `--dns`): `192.0.2.1`, `192.0.2.1:5353`, `2001:db8::1`, `[2001:db8::1]:5353`; the port defaults to 53.
public struct DNSServerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int = 53) {
        self.host = host
        self.port = port
    }

    /// Parses the text forms above; nil when the host is not an IP literal or the port is not 1–65535.
    public init?(_ text: String, defaultPort: Int = 53) {
        var host = Substring(text)
        var port = defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()) else { return nil }
                port = value
            }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            guard let value = Int(host[host.index(after: colon)...]) else { return nil }
            port = value
            host = host[..<colon]
        }
        guard IPAddress(String(host)) != nil, (1...65535).contains(port) else { return nil }
        self.init(host: String(host), port: port)
    }

    /// `host:port`, with brackets around IPv6.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The socket address (the host is always an IP literal, so nothing is resolved).
    public func socketAddress() throws -> SocketAddress {
        try SocketAddress(ipAddress: host, port: port)
    }

    /// Parses a configured list (`[dns] servers` in apus.toml, `--dns`), failing on the first bad entry.
    public static func parseList(_ texts: [String]) throws(InvalidDNSServerAddress) -> [DNSServerAddress] {
        var servers: [DNSServerAddress] = []
        for text in texts {
            guard let server = DNSServerAddress(text) else { throw InvalidDNSServerAddress(text: text) }
            servers.append(server)
        }
        return servers
    }
}

/// A server entry that is not `IP`, `IP:PORT` or `[IPv6]:PORT`.
public struct InvalidDNSServerAddress: Error, Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public init(text: String) { self.text = text }
    public var description: String {
        "invalid DNS server \"\(text)\": expected an IP address with an optional port, like 127.0.0.1:5353 or [::1]:5353"
    }
}
