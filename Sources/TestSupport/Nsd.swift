import DNSCore
import DNSResolver
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An authoritative DNS server for tests that need real zone files: NSD (Debian package `nsd`) on
/// 127.0.0.1 and a free high port, serving the zones it is given as text. Unlike dnsmasq it loads BIND
/// zone files, so what `apus dns records` prints can be served as it is. Started with posix_spawn in the
/// foreground (`-d`), stopped by its PID.
public final class Nsd: Sendable {
    public static let binary = "/usr/sbin/nsd"

    public let pid: pid_t
    public let port: Int
    public let directory: String
    public var address: String { "127.0.0.1:\(port)" }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "nsd not found at \(Nsd.binary): install the Debian package nsd (apt-get install -y nsd)"
        }
    }

    private init(pid: pid_t, port: Int, directory: String) {
        self.pid = pid
        self.port = port
        self.directory = directory
    }

    /// Starts NSD serving `zones` (zone name → zone file text, which needs its own SOA and NS records;
    /// `soa(_:)` writes them). Files go to a new directory under `directory`.
    public static func start(zones: [String: String], in directory: String) async throws -> Nsd {
        guard access(binary, X_OK) == 0 else { throw Missing() }
        let root = "\(directory)/nsd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var zoneClauses = ""
        for (index, (name, text)) in zones.sorted(by: { $0.key < $1.key }).enumerated() {
            try text.write(toFile: "\(root)/zone\(index)", atomically: true, encoding: .utf8)
            zoneClauses += "zone:\n  name: \"\(name)\"\n  zonefile: \"\(root)/zone\(index)\"\n"
        }
        let probe = zones.keys.sorted().first ?? "."
        for _ in 0..<5 {
            let port = try await Dnsmasq.freePort()
            let conf = """
                server:
                  ip-address: 127.0.0.1@\(port)
                  username: ""
                  chroot: ""
                  zonesdir: "\(root)"
                  pidfile: ""
                  database: ""
                  zonelistfile: "\(root)/zone.list"
                  xfrdfile: "\(root)/xfrd.state"
                  logfile: "\(root)/log"
                  server-count: 1
                remote-control:
                  control-enable: no
                \(zoneClauses)
                """
            try conf.write(toFile: "\(root)/nsd.conf", atomically: true, encoding: .utf8)
            let server = Nsd(pid: try Dnsmasq.spawn([binary, "-d", "-c", "\(root)/nsd.conf"], path: binary),
                             port: port, directory: root)
            if await server.waitUntilReady(probe) { return server }
            server.stop()
        }
        let log = (try? String(contentsOfFile: "\(root)/log", encoding: .utf8)) ?? ""
        throw Dnsmasq.StartFailed(description: "nsd did not start or answer on 5 ports: \(log)")
    }

    /// `$TTL`, SOA and NS lines for the top of a zone file.
    public static func soa(_ zone: String) -> String {
        """
        $TTL 300
        \(zone). IN SOA ns.\(zone). hostmaster.\(zone). 1 3600 600 86400 300
        \(zone). IN NS ns.\(zone).

        """
    }

    /// Polls with an SOA query until NSD answers (at most ~3 s).
    func waitUntilReady(_ zone: String) async -> Bool {
        let resolver = DNSResolver(servers: [DNSServerAddress(address)!], timeout: .milliseconds(100), attempts: 1,
                                   cacheCapacity: 0)
        for _ in 0..<30 {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return false }
            if case .answer = await resolver.lookup(zone, .soa) { return true }
        }
        return false
    }

    /// Stops NSD with SIGTERM (it stops its server and xfrd children itself; a SIGKILL would leave them
    /// serving the port).
    public func stop() {
        stopProcess(pid)
    }
}

/// SIGTERM to this PID only, SIGKILL if it is still there after a second; then reaps it. For processes
/// started with `Dnsmasq.spawn` (an empty signal mask: a child started by Foundation's Process inherits
/// the test runner's blocked signals and never sees the SIGTERM).
public func stopProcess(_ pid: pid_t) {
    kill(pid, SIGTERM)
    var status: Int32 = 0
    for _ in 0..<50 {
        if waitpid(pid, &status, WNOHANG) == pid { return }
        usleep(20_000)
    }
    kill(pid, SIGKILL)
    waitpid(pid, &status, 0)
}
