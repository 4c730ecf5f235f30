import Config
import Delivery
import Directory
import Foundation
import HTTPAPI
import Logging
import MailMessage
import MailQueue
import MailStore
import NIOCore
import NIOPosix
import SMTPProtocol
import SMTPTransport

/// Credentials and acceptance for all listeners.
final class ServerDelegate: SMTPServerDelegate {
    let config: ApusConfig
    let directory: DirectoryHolder
    let policy: ServerPolicy
    let router: Router
    let spool: any Spool
    let authLimiter: AuthLimiter
    let hashing = WorkLimiter(limit: 2)
    let delivered: @Sendable (String) -> Void
    let logger: Logger
    let signer: OutboundSigner
    let senderChecker: SenderChecker?
    let inboundAuthenticator: InboundAuthenticator?
    let metrics: ServerMetrics
    /// Records a `queued` event per recipient of each accepted message (nil: no event store).
    let events: EventRecorder?
    /// Complaints and bounce reports for our senders, read on arrival.
    let reports: InboundReports?

    init(config: ApusConfig, directory: DirectoryHolder, policy: ServerPolicy, router: Router, spool: any Spool,
         signer: OutboundSigner, senderChecker: SenderChecker? = nil, inboundAuthenticator: InboundAuthenticator? = nil,
         delivered: @escaping @Sendable (String) -> Void, metrics: ServerMetrics = ServerMetrics(),
         events: EventRecorder? = nil, unsubscribe: UnsubscribeLinks? = nil, logger: Logger) {
        self.metrics = metrics
        self.events = events
        let dir = directory
        self.reports = events.map {
            InboundReports(recorder: $0, complaintsAddress: config.suppression.complaintsAddress,
                           isLocalDomain: { dir.current.isLocalDomain($0) }, unsubscribe: unsubscribe, logger: logger)
        }
        self.signer = signer
        self.senderChecker = senderChecker
        self.inboundAuthenticator = inboundAuthenticator
        self.config = config
        self.directory = directory
        self.policy = policy
        self.router = router
        self.spool = spool
        self.authLimiter = AuthLimiter(maxFailures: config.limits.maxAuthFailures,
                                       window: TimeInterval(config.limits.authFailureWindow.seconds))
        self.delivered = delivered
        self.logger = logger
    }

    func authenticate(username: String, password: String, connection: ConnectionInfo) async -> AuthOutcome {
        if authLimiter.isBlocked(connection.remoteAddress) {
            metrics.authFailed(connection.listener)
            return .blocked
        }
        let dir = directory.current
        let result: AuthResult
        do {
            result = try await hashing.run {
                try await NIOThreadPool.singleton.runIfActive { dir.authenticate(username: username, password: password) }
            }
        } catch {
            logger.error("AUTH check failed: \(error)")
            return .temporaryFailure
        }
        if let address = result.address { return .success(user: address) }
        authLimiter.recordFailure(connection.remoteAddress)
        metrics.authFailed(connection.listener)
        return .refused(reason: dir.authFailureReason(username: username))
    }

    func checkSender(_ sender: ReversePath, heloName: String, connection: ConnectionInfo) async -> SenderVerdict {
        guard let senderChecker else { return SenderVerdict() }
        return await senderChecker.check(sender, heloName: heloName, clientAddress: connection.remoteAddress)
    }

    func accept(envelope: Envelope, message: consuming ByteBuffer, connection: ConnectionInfo) async -> Result<String, SMTPReply> {
        await accept(envelope: envelope, message: consume message, connection: connection, source: connection.listener.rawValue)
    }

    func accept(envelope: Envelope, spilled: SpilledMessage, connection: ConnectionInfo) async -> Result<String, SMTPReply> {
        await accept(envelope: envelope, content: .spilled(spilled), connection: connection, source: connection.listener.rawValue)
    }

    /// `source` names the way in for the `queued` event: mx, submission, submissions, api.
    func accept(envelope: Envelope, message: consuming ByteBuffer, connection: ConnectionInfo, source: String) async -> Result<String, SMTPReply> {
        await accept(envelope: envelope, content: .memory(consume message), connection: connection, source: source)
    }

    /// The acceptance of every message: loop check, unsubscribe requests, recipients, free space, inbound
    /// checks or DKIM signing, the trace fields on top, the queue file, events. `content` is the message in
    /// memory, or a large one's header in memory and body on disk (`ServerDelegate+Spilled.swift`).
    /// `content` is consumed: the caller lets go of the message, so that the trace fields can be put in front
    /// of it without copying it (`ByteBuffer.prepend` copies a buffer that someone else still holds).
    func accept(envelope: Envelope, content: consuming MessageContent, connection: ConnectionInfo, source: String) async -> Result<String, SMTPReply> {
        let started = ContinuousClock.now
        if Self.receivedCount(content.header) > Self.maxReceivedHeaders {
            logger.notice("refused message from \(connection.remoteAddress): more than \(Self.maxReceivedHeaders) Received headers (mail loop?)")
            return .failure(.c554MailLoop)
        }
        // `mailto:` unsubscribe requests (unsubscribe@<local domain>, token in the subject) are read here and
        // not queued; the other recipients of the same message are delivered as usual.
        var envelope = envelope
        let unsubscribes = envelope.recipients.filter {
            if case .mailbox(let m) = $0 { return policy.isUnsubscribeMailbox(m) } else { return false }
        }
        if !unsubscribes.isEmpty {
            await reports?.unsubscribe(message: content.header, from: connection.remoteAddress)
            envelope.recipients.removeAll { unsubscribes.contains($0) }
            if envelope.recipients.isEmpty { return .success(QueuedMessage.newID()) }
        }
        let recipients: [QueuedMessage.Recipient]
        do {
            recipients = try expandRecipients(envelope)
        } catch {
            logger.error("cannot resolve the recipients of a message from \(connection.remoteAddress): \(error)")
            return .failure(.c451AliasError)
        }
        // The queue's high-water mark (RFC 3463 X.3.1: mail system full): nothing accepted that cannot be kept.
        if let free = Self.freeBytes(config.dataDir + "/queue"), free < config.delivery.queueMinFreeBytes + content.size {
            logger.error("queue disk nearly full (\(free) bytes free, minimum \(config.delivery.queueMinFreeBytes)): refusing mail from \(connection.remoteAddress)")
            return .failure(.c452InsufficientStorage)
        }
        let id = QueuedMessage.newID()
        let received = ReceivedHeader(clientName: envelope.clientName, clientAddress: connection.remoteAddress,
                                      hostname: config.hostname, protocolName: envelope.protocolName, queueID: id,
                                      tlsVersion: connection.tlsVersion, date: Date()).rendered
        var authResults: String?
        if envelope.authenticatedUser == nil, let inboundAuthenticator {
            content.header = InboundAuthenticator.removingForgedResults(content.header, hostname: config.hostname)
            let outcome = await content.evaluate(inboundAuthenticator, envelope: envelope)
            if let refusal = outcome.refusal {
                logger.notice("refused message from \(connection.remoteAddress) mail from \(envelope.mailFrom): \(refusal)")
                return .failure(refusal)
            }
            authResults = outcome.headerField
        }
        var trace: [UInt8] = []
        trace.reserveCapacity(received.utf8.count + (authResults?.utf8.count ?? 0) + 256)
        if let authResults { trace += authResults.utf8; trace += [13, 10] }          // RFC 8601 §5: at the top
        for field in envelope.traceFields { trace += field.utf8; trace += [13, 10] }   // Received-SPF
        trace += received.utf8
        // Submitted mail from our domains is DKIM-signed; mail arriving on port 25 is not touched.
        if envelope.authenticatedUser != nil {
            content = await content.signed(by: signer, isLocalDomain: { [directory] in directory.current.isLocalDomain($0) })
        }
        // The trace fields go into the headroom the DATA decoder left in front of the message: `content` lets
        // go of the buffer first, so that it is not shared (then `prepend` would copy it whole).
        var full = content.header
        content.header = ByteBuffer()
        full.prepend(trace)
        let size = full.readableBytes + content.bodyFileBytes
        let mailFrom = envelope.mailFrom.mailbox.map { "\($0.encodedLocalPart)@\($0.domain.lookupKey)" } ?? ""
        var meta = QueuedMessage(id: id, mailFrom: mailFrom, recipients: recipients, receivedAt: Date(),
                                 clientAddress: connection.remoteAddress, clientName: envelope.clientName,
                                 authenticatedUser: envelope.authenticatedUser,
                                 smtputf8: envelope.parameters.smtputf8, size: size)
        if envelope.parameters.requireTLS { meta.requireTLS = true }   // RFC 8689 §4.1: tag the message
        do {
            if case .spilled(let spilled) = content {
                try await spool.storeSpilled(meta, header: full, bodyFile: spilled.bodyPath)
            } else {
                try await spool.store(meta, message: full)
            }
        } catch {
            logger.error("queue write failed for message from \(connection.remoteAddress): \(error)")
            return .failure(.c451LocalError)
        }
        logger.info("queued id=\(id) from=<\(mailFrom)> to=\(recipients.map { "<\($0.command.map { "|\($0)" } ?? $0.address)>" }.joined(separator: ",")) size=\(size) client=\(connection.remoteAddress) helo=\(envelope.clientName) tls=\(connection.tlsVersion ?? "none")\(meta.requiresTLS ? " requiretls=yes" : "") auth=\(envelope.authenticatedUser ?? "-") listener=\(connection.listener.rawValue)")
        metrics.messageAccepted(connection.listener)
        metrics.accepted(after: ContinuousClock.now - started, source: source)
        if let events {
            let domain = EventWiring.domain(of: mailFrom)
            let now = meta.receivedAt
            events.record(recipients.map { r in
                var detail = ["source": source, "size": String(size)]
                if r.original.lowercased() != r.address.lowercased() { detail["original_recipient"] = r.original }
                return NewEvent(type: .queued, time: now, messageID: id, recipient: r.address, domain: domain,
                                detail: detail, sender: mailFrom)
            })
        }
        if envelope.authenticatedUser == nil, let reports, reports.wouldHandle(mailFrom: mailFrom, recipients: recipients) {
            await reports.handle(id: id, mailFrom: mailFrom, recipients: recipients,
                                 message: await content.forReports(full))
        }
        delivered(id)
        return .success(id)
    }

    /// One queue recipient per final recipient of each RCPT (aliases expanded, duplicates merged, the first
    /// RCPT that reaches a recipient kept as its `original`). Forwards get an SRS sender when one is due.
    func expandRecipients(_ envelope: Envelope) throws(AliasError) -> [QueuedMessage.Recipient] {
        var recipients: [QueuedMessage.Recipient] = []
        var seen: Set<String> = []
        let now = Date()
        for path in envelope.recipients {
            let original = Self.plain(path)
            for final in try policy.expand(path) where seen.insert(final.description).inserted {
                switch final.kind {
                case .local:
                    recipients.append(.init(address: final.target, original: original))
                case .forward:
                    var recipient = QueuedMessage.Recipient(address: final.target, original: original)
                    recipient.mailFrom = policy.forwardingSender(envelope.mailFrom, for: final, now: now)
                    if final.via != nil, let problem = policy.srsProblem {
                        logger.error("forwarding to <\(final.target)> without SRS: \(problem)")
                    }
                    recipients.append(recipient)
                case .pipe:
                    var recipient = QueuedMessage.Recipient(address: final.via ?? original, original: original)
                    recipient.command = final.target
                    recipients.append(recipient)
                }
            }
        }
        // Each recipient's route is decided here, once, and stored with it in the queue file.
        for i in recipients.indices {
            recipients[i].route = router.route(address: recipients[i].address, command: recipients[i].command)
        }
        return recipients
    }

    /// More Received fields than this and the message is refused as a loop (RFC 5321 §6.3; Postfix's
    /// hopcount_limit is also 50).
    static let maxReceivedHeaders = 50

    /// The number of `Received:` fields in the header block (up to the first empty line).
    static func receivedCount(_ message: ByteBuffer) -> Int {
        message.withUnsafeReadableBytes { bytes in
            var count = 0
            var lineStart = 0
            let name = Array("received".utf8)
            while lineStart < bytes.count {
                var end = lineStart
                while end < bytes.count, bytes[end] != 10 { end += 1 }
                var lineEnd = end
                if lineEnd > lineStart, bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
                if lineEnd == lineStart { break }            // the empty line ends the header
                if lineEnd - lineStart > name.count {
                    var matches = true
                    for i in 0..<name.count where bytes[lineStart + i] | 0x20 != name[i] { matches = false; break }
                    if matches {
                        var j = lineStart + name.count
                        while j < lineEnd, bytes[j] == 32 || bytes[j] == 9 { j += 1 }
                        if j < lineEnd, bytes[j] == UInt8(ascii: ":") { count += 1 }
                    }
                }
                lineStart = end + 1
            }
            return count
        }
    }

    static func plain(_ path: ForwardPath) -> String {
        switch path {
        case .postmaster: return "Postmaster"
        case .mailbox(let m): return m.description
        }
    }

    /// Free bytes for unprivileged users on the file system holding `path`.
    static func freeBytes(_ path: String) -> Int? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        return Int(stats.f_bavail) * Int(stats.f_frsize)
    }
}

