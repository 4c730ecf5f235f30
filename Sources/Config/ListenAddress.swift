#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A `"host:port"` pair from `apus.toml`: `"0.0.0.0:25"`, `"[::]:25"`, `"localhost:8025"`.
///
/// The host is an IPv4 or IPv6 literal (IPv6 in brackets in the text form) or `localhost`; names that need
/// DNS are not allowed, so that listening and the configured DNS servers never depend on DNS.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets: `"0.0.0.0"`, `"::"`, `"localhost"`.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// 127.0.0.0/8, ::1 or localhost: reachable from this machine only.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Parses `"host:port"`, `"[ipv6]:port"`; throws a reason (without file and line) when invalid.
    public static func parse(_ text: String) throws -> ListenAddress {
        try parse(text, defaultPort: nil)
    }

    /// Parses like `parse(_:)` but also accepts a bare host (`"127.0.0.1"`, `"[::1]"`, `"::1"`) with `defaultPort`.
    public static func parse(_ text: String, defaultPort: Int?) throws -> ListenAddress {
        func fail(_ why: String) -> ConfigError { ConfigError(path: nil, line: nil, reason: "\"\(text)\": \(why)") }
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("missing \"]\" after the IPv6 address") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                portText = nil
            } else if rest.hasPrefix(":") {
                portText = rest.dropFirst()
            } else {
                throw fail("expected \":PORT\" after \"]\"")
            }
            guard isIPv6(String(host)) else { throw fail("\"\(host)\" is not an IPv6 address") }
        } else if let colon = text.lastIndex(of: ":") {
            if text[..<colon].contains(":") {
                // Several colons and no brackets: a bare IPv6 address, allowed only without a port.
                guard defaultPort != nil, isIPv6(text) else {
                    throw fail("write an IPv6 address in brackets, as \"[::1]:25\"")
                }
                host = Substring(text)
                portText = nil
            } else {
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            }
        } else {
            host = Substring(text)
            portText = nil
        }
        let port: Int
        if let portText {
            guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let p = Int(portText), (0...65535).contains(p) else {
                throw fail("the port must be a number from 0 to 65535 (0: any free port)")
            }
            port = p
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw fail("expected \"HOST:PORT\"")
        }
        let address = ListenAddress(host: String(host), port: port)
        if let problem = address.problem { throw fail(problem) }
        return address
    }

    /// `"0.0.0.0:25"`, `"[::]:25"`: the form `parse` reads.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Whether the host is an IPv6 literal.
    public var isIPv6: Bool { host.contains(":") }

    /// Why this address is invalid, or nil.
    var problem: String? {
        guard (0...65535).contains(port) else { return "the port must be a number from 0 to 65535 (0: any free port)" }
        guard host == "localhost" || Self.isIPv4(host) || Self.isIPv6(host) else {
            return "the host must be an IP address or \"localhost\", not \"\(host)\""
        }
        return nil
    }

    static func isIPv4(_ text: String) -> Bool {
        var addr = in_addr()
        return text.allSatisfy(\.isASCII) && inet_pton(AF_INET, text, &addr) == 1
    }

    static func isIPv6(_ text: String) -> Bool {
        var addr = in6_addr()
        return text.allSatisfy(\.isASCII) && inet_pton(AF_INET6, text, &addr) == 1
    }
}
