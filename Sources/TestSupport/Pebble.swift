import Foundation

/// Test support: Let's Encrypt's test CA `pebble` (Debian package `pebble`) on loopback, with its own HTTPS
/// certificate made by openssl (the package ships none) and validation ports pointed at the server under
/// test. Stopped by its PID.
public final class Pebble: @unchecked Sendable {
    public static let binary = "/usr/bin/pebble"

    public let directory: String
    public let port: Int
    public let managementPort: Int
    /// The CA of pebble's own HTTPS listener: `[acme] ca_file`.
    public let caFile: String
    public let logFile: String
    let process: Process

    public var directoryURL: String { "https://127.0.0.1:\(port)/dir" }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String { "pebble not found at \(Pebble.binary): apt-get install -y pebble" }
    }

    /// `httpPort`/`tlsPort`: where pebble validates http-01 and tls-alpn-01 (the server's listeners);
    /// `dns`: "127.0.0.1:PORT" of a resolver that maps the names to 127.0.0.1; `nonceReject`: percent of
    /// good nonces refused with badNonce.
    public init(in directory: String, port: Int, managementPort: Int, httpPort: Int, tlsPort: Int, dns: String,
                nonceReject: Int = 0) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else { throw Missing() }
        self.directory = directory
        self.port = port
        self.managementPort = managementPort
        self.caFile = "\(directory)/ca.pem"
        self.logFile = "\(directory)/pebble.log"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.makeCertificate(in: directory)
        let config = """
            {"pebble": {"listenAddress": "127.0.0.1:\(port)", "managementListenAddress": "127.0.0.1:\(managementPort)",
              "certificate": "\(directory)/cert.pem", "privateKey": "\(directory)/key.pem",
              "httpPort": \(httpPort), "tlsPort": \(tlsPort), "ocspResponderURL": "", "externalAccountBindingRequired": false}}
            """
        try config.write(toFile: "\(directory)/pebble.json", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["-config", "\(directory)/pebble.json", "-dnsserver", dns, "-strict"]
        var environment = ProcessInfo.processInfo.environment
        environment["PEBBLE_VA_NOSLEEP"] = "1"
        environment["PEBBLE_WFE_NONCEREJECT"] = String(nonceReject)
        environment["PEBBLE_AUTHZREUSE"] = "0"
        process.environment = environment
        let log = FileHandle(forWritingAtPath: logFile)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
    }

    /// Waits until the directory answers (at most ~5 s).
    public func waitUntilReady() async -> Bool {
        for _ in 0..<50 {
            if !process.isRunning { return false }
            if (try? Self.run("/usr/bin/curl", ["-sf", "--cacert", caFile, directoryURL]).status) == 0 { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// The root (0) that issues this run's certificates, PEM, from the management API.
    public func root() throws -> String { try management("roots/0") }
    public func intermediate() throws -> String { try management("intermediates/0") }

    func management(_ path: String) throws -> String {
        let result = try Self.run("/usr/bin/curl", ["-sf", "--cacert", caFile, "https://127.0.0.1:\(managementPort)/\(path)"])
        guard result.status == 0 else { throw StartFailed(description: "pebble management \(path): curl exit \(result.status)") }
        return result.out
    }

    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public struct StartFailed: Error, CustomStringConvertible {
        public let description: String
    }

    static func makeCertificate(in directory: String) throws {
        let commands: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
             "-subj", "/CN=apus test pebble CA", "-keyout", "\(directory)/ca.key", "-out", "\(directory)/ca.pem"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
             "-keyout", "\(directory)/key.pem", "-out", "\(directory)/srv.csr"],
            ["x509", "-req", "-in", "\(directory)/srv.csr", "-CA", "\(directory)/ca.pem", "-CAkey", "\(directory)/ca.key",
             "-CAcreateserial", "-days", "30", "-extfile", "\(directory)/ext.cnf", "-out", "\(directory)/cert.pem"],
        ]
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            .write(toFile: "\(directory)/ext.cnf", atomically: true, encoding: .utf8)
        for arguments in commands {
            let result = try run("/usr/bin/openssl", arguments)
            guard result.status == 0 else { throw StartFailed(description: "openssl \(arguments[0]): \(result.err)") }
        }
    }

    public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let errData = ErrBox()
        let reader = Thread { errData.data = err.fileHandleForReading.readDataToEndOfFile(); errData.done.signal() }
        reader.start()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        errData.done.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errData.data, as: UTF8.self))
    }

    final class ErrBox: @unchecked Sendable {
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }
}
