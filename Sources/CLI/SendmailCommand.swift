import ArgumentParser
import Config
import Foundation
import MailMessage
import MailQueue
import NIOCore

/// `apus sendmail [-f FROM] [-t] [RCPT...]` (DESIGN.md §3b): the sendmail interface cron and PHP's `mail()`
/// expect. Reads a message on standard input and writes it straight into `<data_dir>/queue/` with
/// `FileSpool` (durably, like the SMTP listener does), then asks the running server to deliver it by
/// creating `<data_dir>/state/retry/<id>`; the server's queue runner looks there every second (a stopped
/// server delivers it at its next start). The caller needs write access to the data directory: root, or
/// the user the server runs as. Run as root, the queue files get the queue directory's owner (`DurableFile`),
/// so that a server running as `apus` can read them.
/// Recipients are used as given: aliases are not expanded here.
struct SendmailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sendmail",
        abstract: "Queue a message from standard input (sendmail-compatible).",
        discussion: """
            Recipients come from the arguments, or with -t from the To, Cc and Bcc header fields (Bcc is \
            removed). Lines ending in LF are converted to CRLF; a lone "." line ends the message unless -i. \
            From, Date and Message-ID are added when missing.
            """)

    @OptionGroup var options: ConfigOptions
    @Option(name: .customShort("f", allowingJoined: true),
            help: "Envelope sender (default: the user running the command @ hostname).")
    var from: String?
    @Flag(name: .customShort("t"), help: "Read recipients from the message header.") var fromHeader = false
    @Flag(name: .customShort("i"), help: "A line with a single dot does not end the message.") var ignoreDots = false
    @Flag(name: .customLong("oi", withSingleDash: true), help: .hidden) var ignoreDotsOld = false
    @Option(name: .customShort("F", allowingJoined: true), help: "Full name of the sender (for an added From).")
    var fullName: String?
    // Accepted and ignored, as cron and mail(1) pass them: -B8BITMIME, -odi (deliver in the background),
    // -oem (mail errors back), -om (include me).
    @Option(name: .customShort("B", allowingJoined: true), help: .hidden) var bodyType: String?
    @Flag(name: .customLong("odi", withSingleDash: true), help: .hidden) var deliverBackground = false
    @Flag(name: .customLong("oem", withSingleDash: true), help: .hidden) var mailErrors = false
    @Flag(name: .customLong("om", withSingleDash: true), help: .hidden) var includeMe = false
    @Argument(help: "Recipient addresses.") var recipients: [String] = []

    func run() async throws {
        let config: ApusConfig
        do { config = try ApusConfig.load(configDirectory: options.configDirectory) } catch { throw CLIError("\(error)") }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let user = ProcessInfo.processInfo.environment["USER"] ?? "root"
        let sender = from ?? "\(user)@\(config.hostname)"
        var (header, body) = Self.split(Self.lines(of: input, stopAtDot: !(ignoreDots || ignoreDotsOld)))
        var rcpts = recipients.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if fromHeader {
            rcpts += Self.addresses(in: header, fields: ["to", "cc", "bcc"])
            header.removeAll { Self.fieldName($0) == "bcc" }
        }
        rcpts = rcpts.filter { !$0.isEmpty }
        guard !rcpts.isEmpty else { throw CLIError("no recipients: give them as arguments or use -t") }
        let now = Date()
        let id = QueuedMessage.newID(now: now)
        if !header.contains(where: { Self.fieldName($0) == "from" }) {
            header.append("From: \(fullName.map { "\($0) " } ?? "")<\(sender)>")
        }
        if !header.contains(where: { Self.fieldName($0) == "date" }) { header.append("Date: \(RFC5322Date.format(now))") }
        if !header.contains(where: { Self.fieldName($0) == "message-id" }) {
            header.append("Message-ID: <\(id)@\(config.hostname)>")
        }
        let received = "Received: by \(config.hostname) (Apus sendmail, uid \(getuid())) id \(id);\r\n\t\(RFC5322Date.format(now))\r\n"
        let text = received + header.map { $0 + "\r\n" }.joined() + "\r\n" + body.map { $0 + "\r\n" }.joined()
        let bytes = Array(text.utf8)
        let meta = QueuedMessage(id: id, mailFrom: sender, recipients: rcpts.map { .init(address: $0, original: $0) },
                                 receivedAt: now, clientAddress: "127.0.0.1", clientName: "localhost",
                                 authenticatedUser: user, smtputf8: !(([sender] + rcpts).joined().allSatisfy(\.isASCII)),
                                 size: bytes.count)
        let queue = "\(config.dataDir)/queue"
        do {
            let spool = try FileSpool(directory: queue)
            try await spool.store(meta, message: ByteBuffer(bytes: bytes))
        } catch {
            throw CLIError("cannot queue the message in \(queue): \(error)"
                           + (geteuid() == 0 ? "" : "; run apus sendmail as root or as the user the server runs as"))
        }
        try QueueCommand.triggerRetry(config, name: id)
    }

    /// Input lines without their line ends; a "." line ends the input unless `stopAtDot` is false.
    static func lines(of data: Data, stopAtDot: Bool) -> [String] {
        var out: [String] = []
        for raw in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            if stopAtDot && line == "." { return out }
            out.append(line)
        }
        if out.last == "" { out.removeLast() }
        return out
    }

    static func split(_ lines: [String]) -> ([String], [String]) {
        guard let blank = lines.firstIndex(of: "") else { return (lines, []) }
        return (Array(lines[..<blank]), Array(lines[(blank + 1)...]))
    }

    static func fieldName(_ line: String) -> String? {
        guard let first = line.first, first != " ", first != "\t", let colon = line.firstIndex(of: ":") else { return nil }
        return line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// Addresses in the given fields (continuation lines joined): `<a@b>` forms, else bare `a@b` words.
    static func addresses(in header: [String], fields: Set<String>) -> [String] {
        var values: [String] = []
        var current: String?
        for line in header {
            if let name = fieldName(line) {
                if let current { values.append(current) }
                current = fields.contains(name) ? String(line[line.index(after: line.firstIndex(of: ":")!)...]) : nil
            } else if current != nil {
                current! += " " + line.trimmingCharacters(in: .whitespaces)
            }
        }
        if let current { values.append(current) }
        var out: [String] = []
        for value in values {
            for part in value.split(separator: ",") {
                if let open = part.firstIndex(of: "<"), let close = part.lastIndex(of: ">"), open < close {
                    out.append(String(part[part.index(after: open)..<close]))
                } else if let word = part.split(separator: " ").first(where: { $0.contains("@") }) {
                    out.append(String(word))
                }
            }
        }
        return out
    }
}
