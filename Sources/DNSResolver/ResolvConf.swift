import DNSCore

/// The parts of `/etc/resolv.conf` (resolv.conf(5)) a stub resolver needs: `nameserver` lines (at most
/// three are used by glibc; we take them all), and `options timeout:N attempts:N`. Other keywords
/// (`search`, `domain`, `ndots`, …) are ignored: mail names are always fully qualified.
public struct ResolvConf: Sendable, Hashable {
    public var servers: [DNSServerAddress] = []
    /// Seconds per try (glibc default 5, capped at 30).
    public var timeoutSeconds = 5
    /// Rounds over all servers (glibc default 2, capped at 5).
    public var attempts = 2

    public init() {}

    /// Parses the file's text. Unknown lines are skipped; `#` and `;` start comments.
    public init(parsing text: String) {
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.split(whereSeparator: { $0 == "#" || $0 == ";" }).first ?? ""
            let words = line.split(whereSeparator: \.isWhitespace)
            guard let keyword = words.first else { continue }
            switch keyword {
            case "nameserver":
                // A link-local IPv6 server may carry a zone (`fe80::1%eth0`); not supported, skipped.
                if words.count >= 2, let server = DNSServerAddress(String(words[1])), !words[1].contains("%") {
                    servers.append(server)
                }
            case "options":
                for option in words.dropFirst() {
                    if option.hasPrefix("timeout:"), let value = Int(option.dropFirst(8)) {
                        timeoutSeconds = min(max(value, 1), 30)
                    } else if option.hasPrefix("attempts:"), let value = Int(option.dropFirst(9)) {
                        attempts = min(max(value, 1), 5)
                    }
                }
            default:
                continue
            }
        }
    }

    /// As glibc does when the file lists no server: the local host.
    public static let fallbackServers = [DNSServerAddress(host: "127.0.0.1"), DNSServerAddress(host: "::1")]
}
