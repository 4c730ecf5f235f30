import DNSCore
import DNSResolver
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// A real dnsmasq (Debian package `dnsmasq-base`) on 127.0.0.1 and a free high port, serving the
/// records the integration tests ask for. Started per test and stopped by its PID.
final class Dnsmasq: Sendable {
    static let binary = "/usr/sbin/dnsmasq"

    let process: Process
    let port: Int
    var address: String { "127.0.0.1:\(port)" }

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "dnsmasq not found at \(Dnsmasq.binary): install the Debian package dnsmasq-base (apt-get install -y dnsmasq-base)"
        }
    }

    struct StartFailed: Error, CustomStringConvertible {
        let description: String
    }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts dnsmasq with `records` (extra command-line options such as `--host-record=…`).
    static func start(_ records: [String]) async throws -> Dnsmasq {
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw Missing() }
        var lastError = ""
        for _ in 0..<5 {
            let port = try await freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [
                "--no-daemon", "--bind-interfaces", "--listen-address=127.0.0.1", "--port=\(port)",
                "--no-resolv", "--no-hosts", "--local=/test/", "--local=/2.0.192.in-addr.arpa/",
                "--edns-packet-max=512", "--local-ttl=300", "--user=\(NSUserName())", "--pid-file=",
            ] + records
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let server = Dnsmasq(process: process, port: port)
            if await server.waitUntilReady() { return server }
            server.stop()
            lastError = String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
        }
        throw StartFailed(description: "dnsmasq did not start: \(lastError)")
    }

    /// Polls with a query until dnsmasq answers (at most ~3 s).
    func waitUntilReady() async -> Bool {
        let resolver = DNSResolver(servers: [DNSServerAddress(address)!], timeout: .milliseconds(100), attempts: 1,
                                   cacheCapacity: 0)
        for _ in 0..<30 {
            guard process.isRunning else { return false }
            if await resolver.lookup("ready.probe.test", .a) != .timeout { return true }
        }
        return false
    }

    /// SIGKILL to this PID only. Not SIGTERM: the child inherits the test runner's signal mask, in which
    /// SIGTERM is blocked, so `terminate()` would never end it.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A port that was free on 127.0.0.1 for UDP a moment ago.
    static func freePort() async throws -> Int {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }
}
