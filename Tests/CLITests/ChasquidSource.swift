import Foundation
import TestSupport
import Testing

/// A chasquid setup made the way its users make one: Debian's `chasquid-util` adds the users and aliases,
/// `openssl` makes the DKIM key (named as chasquid 1.14+ names it, `domains/<d>/dkim:<selector>.pem`) and a
/// certificate, and `chasquid.conf` sets non-default values with loopback ports and a data directory of its
/// own. The MDA is a script that fails temporarily (exit 75) until `openMailboxes()`, then writes each message
/// to `delivered/<user>`, so local mail stays in a queue until the test lets it through.
struct ChasquidSource {
    static let util = "/usr/bin/chasquid-util"
    static let daemon = "/usr/bin/chasquid"
    static let domain = "example.test"
    static let users: [(name: String, password: String)] = [("alice", "correct horse"), ("bob", "pässwörd☃ ünïcode"), ("carol", "c4r0l!#$")]
    static let selector = "sel2024"

    let root: String
    var config: String { "\(root)/chasquid" }
    var data: String { "\(root)/chasquid-data" }
    var delivered: String { "\(root)/delivered" }
    let ports: [Int]   // smtp, submission, submission+tls, monitoring
    var dkimKey: String { "\(config)/domains/\(Self.domain)/dkim:\(Self.selector).pem" }

    /// Builds the directory; `#require`s every tool to succeed.
    static func make(root: String) async throws -> ChasquidSource {
        try #require(FileManager.default.isExecutableFile(atPath: util), "install Debian's chasquid package (scripts/test does)")
        let source = ChasquidSource(root: root, ports: try InitServeTests.freePorts(4))
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(source.config)/domains/\(domain)", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(source.config)/certs/mx.\(domain)", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: source.delivered, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(source.config)/hooks", withIntermediateDirectories: true)
        // A post-data hook, as Debian's package installs one (there it greylists, filters spam, signs DKIM).
        try "#!/bin/sh\necho \"X-Hooked: yes\"\n".write(toFile: "\(source.config)/hooks/post-data", atomically: true, encoding: .utf8)
        chmod("\(source.config)/hooks/post-data", 0o755)
        let mda = "\(root)/mda"
        try """
            #!/bin/sh
            # chasquid's MDA arguments: -f FROM -d TO_USER
            [ -e "\(root)/open" ] || { cat >/dev/null; exit 75; }
            cat > "\(source.delivered)/$4"
            """.write(toFile: mda, atomically: true, encoding: .utf8)
        chmod(mda, 0o755)
        try """
            # chasquid.conf with non-default values
            hostname: "mx.\(domain)"
            max_data_size_mb: 20
            smtp_address: "127.0.0.1:\(source.ports[0])"
            submission_address: "127.0.0.1:\(source.ports[1])"
            submission_over_tls_address: "127.0.0.1:\(source.ports[2])"
            monitoring_address: "127.0.0.1:\(source.ports[3])"
            mail_delivery_agent_bin: "\(mda)"
            mail_delivery_agent_args: "-f"
            mail_delivery_agent_args: "%from%"
            mail_delivery_agent_args: "-d"
            mail_delivery_agent_args: "%to_user%"
            data_dir: "\(source.data)"
            suffix_separators: "+-"
            drop_characters: "._"
            mail_log_path: "<stderr>"

            """.write(toFile: "\(source.config)/chasquid.conf", atomically: true, encoding: .utf8)
        for user in users {
            try await source.util(["user-add", "\(user.name)@\(domain)", "--password=\(user.password)"])
        }
        try await source.util(["aliases-add", "info@\(domain)", "alice"])
        try await source.util(["aliases-add", "team@\(domain)", "alice, carol"])
        try await source.util(["aliases-add", "fwd@\(domain)", "someone@remote.test"])
        try await source.util(["aliases-add", "*@\(domain)", "bob"])
        try await run("/usr/bin/openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", source.dkimKey])
        try await run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                           "-days", "30", "-subj", "/CN=mx.\(domain)", "-addext", "subjectAltName=DNS:mx.\(domain)",
                                           "-keyout", "\(source.config)/certs/mx.\(domain)/privkey.pem",
                                           "-out", "\(source.config)/certs/mx.\(domain)/fullchain.pem"])
        return source
    }

    @discardableResult
    func util(_ arguments: [String]) async throws -> String {
        try await Self.run(Self.util, ["-C=\(config)"] + arguments)
    }

    @discardableResult
    static func run(_ program: String, _ arguments: [String]) async throws -> String {
        let result = try await ApusProcess.runProgram(program, arguments)
        try #require(result.status == 0, "\(program) \(arguments.joined(separator: " ")): \(result.out)\(result.err)")
        return result.out + result.err
    }

    /// Starts the real chasquid on its loopback ports (remote delivery aimed at port 1, where nothing
    /// listens, so it stays queued); returns its PID once it accepts connections.
    func startDaemon() throws -> pid_t {
        let pid = try Dnsmasq.spawn(["/bin/sh", "-c", "exec \"$0\" -config_dir=\"$1\" -testing__outgoing_smtp_port=1 2>\"$2\"",
                                     Self.daemon, config, "\(root)/chasquid.log"], path: "/bin/sh")
        guard CheckCommandTests.World.waitForPort("127.0.0.1", ports[0]) else {
            stopProcess(pid)
            let log = (try? String(contentsOfFile: "\(root)/chasquid.log", encoding: .utf8)) ?? ""
            Issue.record("chasquid did not listen on 127.0.0.1:\(ports[0]): \(log)")
            throw CancellationError()
        }
        return pid
    }

    /// Lets the MDA script deliver.
    func openMailboxes() { _ = FileManager.default.createFile(atPath: "\(root)/open", contents: Data()) }

    /// chasquid's queue files.
    var queueFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(data)/queue")) ?? []).filter { $0.hasPrefix("m:") }.sorted()
    }
}
