import DNSCore
import DNSResolver
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A validating resolver for DANE tests: unbound (Debian package `unbound`) on 127.0.0.1 and a free high
/// port, in the foreground (`-d`), stopped by its PID. Each test zone is a stub zone pointing at an
/// authoritative server on loopback (`Nsd`); a signed zone gets its DS as trust anchor, so its answers come
/// back with the AD bit, an unsigned one is "insecure" (no AD), and a tampered signature is "bogus"
/// (SERVFAIL). Unbound's built-in empty zone for `test.` (RFC 6761) is switched off.
public final class Unbound: Sendable {
    public static let binary = "/usr/sbin/unbound"

    public let pid: pid_t
    public let port: Int
    public let directory: String
    public var address: String { "127.0.0.1:\(port)" }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "unbound not found at \(Unbound.binary): install the Debian package unbound (apt-get install -y unbound)"
        }
    }

    private init(pid: pid_t, port: Int, directory: String) {
        self.pid = pid
        self.port = port
        self.directory = directory
    }

    /// - Parameters:
    ///   - stubZones: zone name → "127.0.0.1:PORT" of its authoritative server.
    ///   - trustAnchors: DS (or DNSKEY) records, one per signed zone.
    ///   - probe: a name whose answer shows that unbound is ready.
    public static func start(stubZones: [String: String], trustAnchors: [String], probe: String,
                             in directory: String) async throws -> Unbound {
        guard access(binary, X_OK) == 0 else { throw Missing() }
        let root = "\(directory)/unbound-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try (trustAnchors.joined(separator: "\n") + "\n").write(toFile: "\(root)/anchors", atomically: true, encoding: .utf8)
        var stubs = ""
        for (zone, server) in stubZones.sorted(by: { $0.key < $1.key }) {
            stubs += "stub-zone:\n  name: \"\(zone)\"\n  stub-addr: \(server.replacingOccurrences(of: ":", with: "@"))\n"
        }
        for _ in 0..<5 {
            let port = try await Dnsmasq.freePort()
            let conf = """
                server:
                  interface: 127.0.0.1@\(port)
                  port: \(port)
                  do-ip6: no
                  access-control: 127.0.0.0/8 allow
                  username: ""
                  chroot: ""
                  directory: "\(root)"
                  pidfile: ""
                  logfile: "\(root)/log"
                  use-syslog: no
                  verbosity: 1
                  val-log-level: 2
                  do-not-query-localhost: no
                  local-zone: "test." nodefault
                  trust-anchor-file: "\(root)/anchors"
                remote-control:
                  control-enable: no
                \(stubs)
                """
            try conf.write(toFile: "\(root)/unbound.conf", atomically: true, encoding: .utf8)
            let server = Unbound(pid: try Dnsmasq.spawn([binary, "-d", "-c", "\(root)/unbound.conf"], path: binary),
                                 port: port, directory: root)
            if await server.waitUntilReady(probe) { return server }
            server.stop()
        }
        let log = (try? String(contentsOfFile: "\(root)/log", encoding: .utf8)) ?? ""
        throw Dnsmasq.StartFailed(description: "unbound did not start or answer on 5 ports: \(log)")
    }

    /// A resolver that asks only this unbound, without a cache.
    public func resolver(timeout: Duration = .seconds(2), attempts: Int = 2) -> DNSResolver {
        DNSResolver(servers: [DNSServerAddress(address)!], timeout: timeout, attempts: attempts, cacheCapacity: 0)
    }

    /// Polls `name` until unbound answers it (at most ~6 s).
    func waitUntilReady(_ name: String) async -> Bool {
        let resolver = DNSResolver(servers: [DNSServerAddress(address)!], timeout: .milliseconds(200), attempts: 1,
                                   cacheCapacity: 0)
        for _ in 0..<30 {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return false }
            if case .answer = await resolver.lookup(name, .soa) { return true }
        }
        return false
    }

    public func stop() {
        stopProcess(pid)
    }
}
