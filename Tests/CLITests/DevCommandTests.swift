import Foundation
import Testing

/// `apus dev` as a new user meets it: a taken port is named before any banner.
@Suite struct DevCommandTests {
    /// A listening socket on a free loopback port; close it with `close(_:)`.
    /// `reusePort`: as another Apus holds its listeners (one socket per event loop with SO_REUSEPORT).
    static func listeningSocket(reusePort: Bool = false) throws -> (fd: Int32, port: Int) {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if reusePort {
            var one: Int32 = 1
            try #require(setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) == 0)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) }
        }
        try #require(bound == 0 && listen(s, 1) == 0)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) }
        }
        return (s, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A port held by a program listening with SO_REUSEPORT is taken too: Apus must say so, not join that
    /// program's group and share its connections (it would if it set SO_REUSEPORT itself).
    @Test func aPortHeldWithReusePortIsTakenToo() async throws {
        let taken = try Self.listeningSocket(reusePort: true)
        defer { close(taken.fd) }
        let free = try InitServeTests.freePorts(3)
        let result = try await ApusProcess.run(["dev", "--mx-port", String(taken.port),
                                                "--submission-port", String(free[0]), "--submissions-port", String(free[1]),
                                                "--admin-port", String(free[2]), "--log-level", "error"])
        #expect(result.status != 0)
        #expect(result.err.contains("cannot listen for mx on 127.0.0.1:\(taken.port): Address already in use (errno 98)"),
                "\(result.err)")
    }

    @Test func aTakenPortIsNamedWithItsFlagAndNoBannerIsPrinted() async throws {
        let taken = try Self.listeningSocket()
        defer { close(taken.fd) }
        let free = try InitServeTests.freePorts(3)
        let result = try await ApusProcess.run(["dev", "--submission-port", String(taken.port),
                                                "--mx-port", String(free[0]), "--submissions-port", String(free[1]),
                                                "--admin-port", String(free[2]), "--log-level", "error"])
        #expect(result.status != 0)
        #expect(result.err.contains("cannot listen for submission on 127.0.0.1:\(taken.port): Address already in use (errno 98)"),
                "\(result.err)")
        #expect(result.err.contains("use --submission-port"), "\(result.err)")
        #expect(!result.out.contains("Try it"), "the banner came out although the server did not start:\n\(result.out)")
        #expect(!result.err.contains("bind(descriptor:"), "\(result.err)")
    }

    /// Once the ports are bound the banner says that the sender checks are off (so the mail it captures has
    /// no Authentication-Results header), after the "listening" log lines.
    @Test func bannerSaysTheSenderChecksAreOff() async throws {
        let ports = try InitServeTests.freePorts(4)
        let root = try ApusProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(ApusProcess.apus))
        process.arguments = ["dev", "--dir", root, "--mx-port", String(ports[0]), "--submission-port", String(ports[1]),
                             "--submissions-port", String(ports[2]), "--admin-port", String(ports[3]), "--log-level", "error"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        var text = ""
        let deadline = ContinuousClock.now + .seconds(60)
        while !text.contains("Ctrl-C") && ContinuousClock.now < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        #expect(text.contains("SPF, DKIM and DMARC checks are OFF"), "\(text)")
        #expect(text.contains("gets no Authentication-Results header"))
    }
}
