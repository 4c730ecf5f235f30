import DNSCore
import DNSResolver
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Test support shared by the test targets that need a real DNS server (never linked into `apus`).
/// A real dnsmasq (Debian package `dnsmasq-base`) on 127.0.0.1 and a free high port, serving the
/// records the integration tests ask for. Started per test with posix_spawn (an empty signal mask, so it
/// does not inherit the test runner's blocked signals) and stopped by its PID.
public final class Dnsmasq: Sendable {
    public static let binary = "/usr/sbin/dnsmasq"

    public let pid: pid_t
    public let port: Int
    public var address: String { "127.0.0.1:\(port)" }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "dnsmasq not found at \(Dnsmasq.binary): install the Debian package dnsmasq-base (apt-get install -y dnsmasq-base)"
        }
    }

    public struct StartFailed: Error, CustomStringConvertible {
        public let description: String
    }

    private init(pid: pid_t, port: Int) {
        self.pid = pid
        self.port = port
    }

    /// Starts dnsmasq with `records` (extra command-line options such as `--host-record=…`).
    public static func start(_ records: [String]) async throws -> Dnsmasq {
        guard access(binary, X_OK) == 0 else { throw Missing() }
        for _ in 0..<5 {
            let port = try await freePort()
            let arguments = [
                binary, "--no-daemon", "--bind-interfaces", "--listen-address=127.0.0.1", "--port=\(port)",
                "--no-resolv", "--no-hosts", "--local=/test/", "--local=/2.0.192.in-addr.arpa/",
                "--edns-packet-max=512", "--local-ttl=300", "--user=root", "--pid-file=", "--log-facility=/dev/null",
            ] + records
            let server = Dnsmasq(pid: try spawn(arguments), port: port)
            if await server.waitUntilReady() { return server }
            server.stop()
        }
        throw StartFailed(description: "dnsmasq did not start or answer on 5 ports")
    }

    /// Starts `path` (default: dnsmasq) with `arguments` (argv[0] included), an empty signal mask and
    /// stdout/stderr on /dev/null; returns its PID.
    public static func spawn(_ arguments: [String], path: String = binary) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let status = posix_spawn(&pid, path, &actions, &attributes, &argv, environ)
        guard status == 0 else { throw StartFailed(description: "posix_spawn \(path): error \(status)") }
        return pid
    }

    /// Polls with a query until dnsmasq answers (at most ~3 s).
    public func waitUntilReady() async -> Bool {
        let resolver = DNSResolver(servers: [DNSServerAddress(address)!], timeout: .milliseconds(100), attempts: 1,
                                   cacheCapacity: 0)
        for _ in 0..<30 {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return false }  // exited (port taken?)
            if await resolver.lookup("ready.probe.test", .a) != .timeout { return true }
        }
        return false
    }

    /// A resolver that asks only this dnsmasq, without a cache (every lookup reaches the server).
    public func resolver(timeout: Duration = .seconds(1), attempts: Int = 2) -> DNSResolver {
        DNSResolver(servers: [DNSServerAddress(address)!], timeout: timeout, attempts: attempts, cacheCapacity: 0)
    }

    /// SIGKILL to this PID only, then reap it.
    public func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// A port that was free on 127.0.0.1 for UDP a moment ago.
    public static func freePort() async throws -> Int {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }
}
