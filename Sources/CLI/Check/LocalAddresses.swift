#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import DNSCore
import NIOCore
import NIOPosix

/// Which addresses belong to this machine, for `apus check`.
enum LocalAddresses {
    /// Whether `ip` is an address of this machine: the kernel lets a socket bind to it (this covers every
    /// interface address and the whole of 127.0.0.0/8, which a list of interfaces would not).
    static func isLocal(_ ip: IPAddress) -> Bool {
        let fd = socket(ip.isIPv4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if ip.isIPv4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: ip.bytes) }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: ip.bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
    }

    /// The public (globally routable) addresses of this machine's interfaces, IPv4 first. Empty behind NAT,
    /// where the public address lives on the provider's router (then give it with `--ip`).
    static func publicInterfaceAddresses() -> [IPAddress] {
        guard let devices = try? System.enumerateDevices() else { return [] }
        var out: [IPAddress] = []
        for device in devices {
            guard let text = device.address?.ipAddress, let ip = IPAddress(text.split(separator: "%").first.map(String.init) ?? text),
                  DomainArgument.isGlobal(ip), !out.contains(ip) else { continue }
            out.append(ip)
        }
        return out.filter(\.isIPv4) + out.filter { !$0.isIPv4 }
    }
}
