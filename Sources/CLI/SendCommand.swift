import ArgumentParser
import Foundation
import MailMessage
import NIOCore
import NIOSSL
import SMTPTransport

/// `apus send --server HOST:PORT --from A --to B [--user U --password P] [--tls starttls|implicit|none]
/// [--insecure]` (DESIGN.md §3b): sends one test message and prints the SMTP transcript. Exit status 0 when
/// the server answered 250 after the message.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a test message to an SMTP server and show the conversation.",
        discussion: """
            Example: apus send --server mx.example.com:587 --from me@example.com --to friend@example.net \
            --user me@example.com --password '…'
            Without --insecure the server's certificate must verify (system trust store, or --ca-file).
            """)

    enum TLSMode: String, ExpressibleByArgument, CaseIterable { case starttls, implicit, none }

    @Option(help: "HOST:PORT of the server (IPv6 as [::1]:587).") var server: String
    @Option(help: "Envelope sender and From.") var from: String
    @Option(help: "Recipient (repeat for several).") var to: [String]
    @Option(help: "AUTH user name.") var user: String?
    @Option(help: "AUTH password (with --user).") var password: String?
    @Option(help: "starttls (default), implicit (port 465) or none.") var tls: TLSMode = .starttls
    @Flag(help: "Do not verify the server's certificate.") var insecure = false
    @Option(help: "PEM file of CAs to trust instead of the system store.") var caFile: String?
    @Option(name: .customLong("tls-name"), help: ArgumentHelp("The name the certificate must be valid for, sent as SNI (default: the --server host; needed when --server is an IP address).", valueName: "NAME"))
    var tlsName: String?
    @Option(help: "Subject of the test message.") var subject = "Test message from Apus"
    @Option(help: "EHLO name (default: this machine's host name).") var ehlo: String?
    @Option(help: "Seconds to wait for each reply.") var timeout = 60

    func run() async throws {
        let (host, port) = try Self.parseServer(server)
        let address: SocketAddress
        do { address = try SocketAddress.makeAddressResolvingHost(host, port: port) } catch {
            throw CLIError("cannot resolve \(host): \(error)")
        }
        let ip = address.ipAddress ?? host
        var configuration = TLSConfiguration.makeClientConfiguration()
        if insecure { configuration.certificateVerification = .none }
        if let caFile { configuration.trustRoots = .file(caFile) }
        let context = try NIOSSLContext(configuration: configuration)
        if !insecure && tls != .none && tlsName == nil && (Self.isIPv4(host) || host.contains(":")) {
            throw CLIError("--server \(host) is an IP address: give the name its certificate is for with --tls-name NAME, or --insecure")
        }
        let tlsName = insecure ? self.tlsName : (self.tlsName ?? host)
        let name = ehlo ?? ProcessInfo.processInfo.hostName
        print("connecting to \(host) [\(ip)] port \(port)")
        let conn: SMTPClientConnection
        do {
            conn = try await SMTPClientConnection.connect(ip: ip, port: port, timeouts: .all(.seconds(Int64(timeout))))
        } catch { throw CLIError("\(error)") }
        func show(_ reply: SMTPClientReply) {
            for (i, line) in reply.lines.enumerated() { print("<- \(reply.code)\(i == reply.lines.count - 1 ? " " : "-")\(line)") }
        }
        func command(_ line: String, shown: String? = nil) async throws -> SMTPClientReply {
            print("-> \(shown ?? line)")
            let reply = try await conn.command(line)
            show(reply)
            return reply
        }
        func expect(_ reply: SMTPClientReply, _ code: Int) throws {
            guard reply.code == code else { throw CLIError("failed: \(reply)") }
        }
        do {
            if tls == .implicit {
                let version = try await conn.startTLS(context: context, serverHostname: tlsName)
                print("   TLS established (\(version))")
            }
            let greeting = try await conn.readReply(timeout: .seconds(Int64(timeout)), waitingFor: "the greeting")
            show(greeting)
            try expect(greeting, 220)
            var hello = try await command("EHLO \(name)")
            try expect(hello, 250)
            if tls == .starttls {
                guard hello.extensions["STARTTLS"] != nil else { throw CLIError("the server does not offer STARTTLS (use --tls none to send anyway)") }
                try expect(try await command("STARTTLS"), 220)
                let version = try await conn.startTLS(context: context, serverHostname: tlsName)
                print("   TLS established (\(version))")
                hello = try await command("EHLO \(name)")
                try expect(hello, 250)
            }
            if let user {
                let secret = password ?? ""
                let token = Data(([0] + Array(user.utf8) + [0] + Array(secret.utf8))).base64EncodedString()
                try expect(try await command("AUTH PLAIN \(token)", shown: "AUTH PLAIN (credentials hidden)"), 235)
            }
            try expect(try await command("MAIL FROM:<\(from)>"), 250)
            for rcpt in to { try expect(try await command("RCPT TO:<\(rcpt)>"), 250) }
            try expect(try await command("DATA"), 354)
            let now = Date()
            let message = "From: <\(from)>\r\nTo: \(to.map { "<\($0)>" }.joined(separator: ", "))\r\n"
                + "Subject: \(subject)\r\nDate: \(RFC5322Date.format(now))\r\n"
                + "Message-ID: <apus-send.\(UInt64.random(in: 0...UInt64.max))@\(name)>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                + "This is a test message sent by `apus send` at \(RFC5322Date.format(now)).\r\n"
            print("-> (message, \(message.utf8.count) bytes)")
            try await conn.sendMessage(ByteBuffer(string: message))
            let final = try await conn.readReply(timeout: .seconds(Int64(timeout)), waitingFor: "the reply after the message")
            show(final)
            try expect(final, 250)
            print("-> QUIT")
            await conn.quit()
            print("result: sent (\(final))")
        } catch {
            await conn.close()
            print("result: not sent: \(error)")
            throw ExitCode.failure
        }
    }

    static func parseServer(_ text: String) throws -> (String, Int) {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { return (host, 587) }
            return (host, port)
        }
        let parts = text.split(separator: ":")
        if parts.count == 2, let port = Int(parts[1]) { return (String(parts[0]), port) }
        guard parts.count == 1 else { throw ValidationError("--server \(text): expected HOST:PORT") }
        return (text, 587)
    }

    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".")
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}
