import Foundation
import Logging
import MailMessage
import MailQueue
import NIOCore

/// How one recipient's delivery attempt ended, as the `sent`/`delivered`, `deferred` and `bounced` log
/// lines say it: for `QueueRunner`'s observer (the server's metrics and the event store), so Delivery needs
/// neither a metrics library nor a database.
public struct DeliveryEvent: Sendable, Hashable {
    public enum Result: String, Sendable, CaseIterable {
        /// Delivered (handed to a Maildir, LMTP, a command or accepted by the remote server).
        case sent
        /// A temporary failure; another attempt is scheduled.
        case deferred
        /// A permanent failure or a give-up; a DSN goes to the sender.
        case bounced
        /// Still undelivered after `[delivery] delay_warning_after`; a "delayed" DSN went to the sender.
        case delayed
    }
    /// `local`: a Maildir, the LMTP server, the MDA or a `| command` alias; `remote`: another server over SMTP.
    public enum Kind: String, Sendable, CaseIterable {
        case local, remote
    }
    public var result: Result
    public var kind: Kind
    /// The queue id (the API's message id).
    public var messageID: String
    /// The envelope sender of the message ("" for `<>`).
    public var sender: String
    /// The recipient this event is about (after alias expansion).
    public var recipient: String
    /// The reply that decided it, as one line ("550 5.1.1 <x@y>: no such user"), when there is one.
    public var reply: String?
    /// The enhanced status code of `reply` ("5.1.1"), when known.
    public var enhancedStatus: String?
    /// One sentence on what a known provider code means and what to fix, when one applies.
    public var diagnosis: String?
    /// The server that answered ("mx.example.com [192.0.2.1]"), for remote deliveries.
    public var remoteHost: String?
    /// The provider (`[delivery.providers.NAME]`) of the remote host, when it matches one.
    public var provider: String?

    public init(result: Result, kind: Kind, messageID: String = "", sender: String = "", recipient: String = "",
                reply: String? = nil, enhancedStatus: String? = nil, diagnosis: String? = nil,
                remoteHost: String? = nil, provider: String? = nil) {
        self.result = result
        self.kind = kind
        self.messageID = messageID
        self.sender = sender
        self.recipient = recipient
        self.reply = reply
        self.enhancedStatus = enhancedStatus
        self.diagnosis = diagnosis
        self.remoteHost = remoteHost
        self.provider = provider
    }
}

/// Drives every queued message to its end (DESIGN.md §1, §4): local recipients into their Maildir, remote
/// ones through the `Courier` (grouped by domain, one transaction each), then `sent`, `failed` or a retry.
///
/// - At start everything pending is due at once (a restart retries immediately).
/// - A new message's id arrives through `wakeups` and is delivered at once.
/// - A deferred message carries `nextAttempt` (from `RetrySchedule`) in its `.state` file; the runner
///   tries again then. Past `give_up_after` the remaining recipients fail with `4.4.7`.
/// - Permanent failures and give-ups produce one DSN per message to the envelope sender (never for `<>`),
///   queued like any message: a local sender finds it in their mailbox.
/// - `apus queue retry [ID]` and `apus sendmail` drop a file into `<data_dir>/state/retry/` (named after
///   the queue id, or `all`); the runner looks there every `tick` and rescans the queue directory every
///   `scanInterval` for messages it has not seen.
/// - At most `maxConcurrent` messages and `maxPerDestination` transactions per domain run at once.
/// - Shutdown (task cancellation) closes open connections; whatever was not recorded stays pending and is
///   retried at the next start (at-least-once).
public actor QueueRunner {
    public struct Settings: Sendable {
        public var hostname: String
        public var schedule: RetrySchedule
        /// `[delivery] hold_remote`: keep remote recipients queued (apus dev: nothing leaves the machine).
        public var holdRemote: Bool
        /// `[delivery] lmtp`: local mailboxes are reached through this LMTP server instead of Maildirs.
        public var lmtp: LMTPCourier?
        /// `[delivery] mda`: local mailboxes are reached through this command instead of Maildirs.
        public var mda: String?
        public var triggerDirectory: String?
        public var tick: Duration
        public var scanInterval: Duration
        public var maxConcurrent: Int
        public var maxPerDestination: Int

        public init(hostname: String, schedule: RetrySchedule = RetrySchedule(), holdRemote: Bool = false,
                    lmtp: LMTPCourier? = nil, mda: String? = nil, triggerDirectory: String? = nil, tick: Duration = .seconds(1), scanInterval: Duration = .seconds(60),
                    maxConcurrent: Int = 32, maxPerDestination: Int = 4) {
            self.hostname = hostname
            self.schedule = schedule
            self.holdRemote = holdRemote
            self.lmtp = lmtp
            self.mda = mda
            self.triggerDirectory = triggerDirectory
            self.tick = tick
            self.scanInterval = scanInterval
            self.maxConcurrent = maxConcurrent
            self.maxPerDestination = maxPerDestination
        }
    }

    let settings: Settings
    let spool: any Spool
    let local: LocalDeliveryAgent
    let remote: any Courier
    let isLocalDomain: @Sendable (String) -> Bool
    let clock: @Sendable () -> Date
    let jitter: @Sendable () -> Double
    let logger: Logger
    let destinations: DestinationLimiter
    let pipe: PipeCourier
    /// Told of every recipient that was sent, deferred or bounced (metrics).
    let observer: (@Sendable (DeliveryEvent) -> Void)?

    var due: [String: Date] = [:]
    var running: Set<String> = []
    let kicks: AsyncStream<Void>
    let kick: AsyncStream<Void>.Continuation

    public init(settings: Settings, spool: any Spool, local: LocalDeliveryAgent, remote: any Courier,
                isLocalDomain: @escaping @Sendable (String) -> Bool, clock: @escaping @Sendable () -> Date = { Date() },
                jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
                pipe: PipeCourier = PipeCourier(), observer: (@Sendable (DeliveryEvent) -> Void)? = nil,
                logger: Logger) {
        self.pipe = pipe
        self.observer = observer
        self.settings = settings
        self.spool = spool
        self.local = local
        self.remote = remote
        self.isLocalDomain = isLocalDomain
        self.clock = clock
        self.jitter = jitter
        self.logger = logger
        self.destinations = DestinationLimiter(limit: settings.maxPerDestination)
        (kicks, kick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs until cancelled. `wakeups` carries ids of newly queued messages.
    public nonisolated func run(wakeups: AsyncStream<String>) async {
        await scan(startup: true)
        // A discarding group: finished deliveries release their memory at once (a plain task group
        // keeps every child's result until `next()`, which grew ~10 KiB per message).
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await id in wakeups { await self.markDue(id) }
            }
            group.addTask {
                var sinceScan = Duration.zero
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.settings.tick)
                    if Task.isCancelled { break }
                    await self.pickUpTriggers()
                    sinceScan += self.settings.tick
                    if sinceScan >= self.settings.scanInterval {
                        sinceScan = .zero
                        await self.scan(startup: false)
                    }
                    self.kick.yield()
                }
            }
            for await _ in kicks {
                if Task.isCancelled { break }
                for id in await takeReady() {
                    group.addTask {
                        await self.process(id)
                        await self.finished(id)
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// Queued messages not known yet become due: all of them at start, else when their `nextAttempt` says.
    func scan(startup: Bool, announce: Bool = true) async {
        let items: [QueuedMessage]
        do { items = try await spool.list() } catch {
            logger.error("queue: cannot list: \(error)")
            return
        }
        if startup, announce, !items.isEmpty { logger.info("queue: \(items.count) message(s) found at start, resuming delivery") }
        for item in items where !item.isDone && due[item.id] == nil && !running.contains(item.id) {
            due[item.id] = startup ? clock() : (item.nextAttempt ?? clock())
        }
        kick.yield()
    }

    func markDue(_ id: String) {
        due[id] = clock()
        kick.yield()
    }

    /// `<trigger dir>/<id>` or `/all`: deliver now (written by `apus queue retry` and `apus sendmail`).
    func pickUpTriggers() async {
        guard let dir = settings.triggerDirectory,
              let names = try? FileManager.default.contentsOfDirectory(atPath: dir), !names.isEmpty else { return }
        for name in names where !name.hasPrefix(".") {
            unlink("\(dir)/\(name)")
            if name == "all" {
                let now = clock()
                for id in due.keys { due[id] = now }
                await scan(startup: true, announce: false)
                logger.info("queue: retry of every message requested")
            } else if QueuedMessage.isValidID(name) {
                due[name] = clock()
            }
        }
    }

    func takeReady() -> [String] {
        let now = clock()
        var ready: [String] = []
        // Only the due entries are sorted: deferred messages waiting for a retry cost a comparison each.
        for (id, _) in due.filter({ $0.value <= now }).sorted(by: { $0.value < $1.value }) {
            guard running.count < settings.maxConcurrent else { break }
            if running.contains(id) { continue }
            due[id] = nil
            running.insert(id)
            ready.append(id)
        }
        return ready
    }

    func finished(_ id: String) {
        running.remove(id)
        kick.yield()
    }

    /// One delivery attempt for every pending recipient of one message, then its state recorded.
    public func process(_ id: String) async {
        let loaded: (QueuedMessage, ByteBuffer)
        do { loaded = try await spool.load(id: id) } catch SpoolError.notFound {
            return
        } catch {
            logger.error("queue \(id): cannot load: \(error)")
            return
        }
        var meta = loaded.0
        let body = loaded.1
        let now = clock()
        var failed: [Int] = []

        // Local mailboxes through LMTP when configured: one transaction for all of them (RFC 2033).
        if let lmtp = settings.lmtp {
            let indices = meta.recipients.indices.filter {
                meta.recipients[$0].state == .pending && meta.recipients[$0].command == nil
                    && isLocalDomain(Self.domain(of: meta.recipients[$0].address))
            }
            if !indices.isEmpty {
                let results = await lmtp.deliver(meta, body: body, addresses: indices.map { meta.recipients[$0].address },
                                                 mailFrom: meta.mailFrom)
                for (i, result) in zip(indices, results) {
                    apply(result, to: &meta.recipients[i])
                    if result.outcome == .permanent { failed.append(i) }
                    if result.outcome == .sent { observer?(event(.sent, .local, meta, meta.recipients[i], result)) }
                    logger.notice("\(result.outcome == .sent ? "delivered" : "lmtp \(result.outcome)") id=\(id) to=<\(result.address)> relay=lmtp \(lmtp.host):\(lmtp.port) reply=\"\(result.reply)\"")
                }
            }
        }

        // Local recipients: a `| command` alias (PipeCourier) or a Maildir write, no network.
        for i in meta.recipients.indices where meta.recipients[i].state == .pending {
            let address = meta.recipients[i].address
            let result: RecipientResult
            if let command = meta.recipients[i].command {
                result = await Self.runPipe(command, pipe: pipe, meta: meta, body: body, index: i)
                if result.outcome == .sent { logger.notice("delivered id=\(id) to=<\(address)> pipe=\"\(command)\"") }
            } else if isLocalDomain(Self.domain(of: address)), let mda = settings.mda {
                let at = address.lastIndex(of: "@") ?? address.endIndex
                let user = String(address[..<at]), domain = Self.domain(of: address)
                result = await Self.runPipe(mda, pipe: pipe, meta: meta, body: body, index: i,
                                            environment: ["USER": user, "DOMAIN": domain])
                if result.outcome == .sent { logger.notice("delivered id=\(id) to=<\(address)> mda=\"\(mda)\"") }
            } else if isLocalDomain(Self.domain(of: address)) {
                result = await local.deliverOne(meta, body: body, address: address)
            } else {
                continue
            }
            apply(result, to: &meta.recipients[i])
            if result.outcome == .permanent { failed.append(i) }
            if result.outcome == .sent { observer?(event(.sent, .local, meta, meta.recipients[i], result)) }
        }

        // Remote recipients: one transaction per (domain, envelope sender), domains in parallel.
        let remoteIndices = meta.recipients.indices.filter {
            meta.recipients[$0].state == .pending && meta.recipients[$0].command == nil
                && !isLocalDomain(Self.domain(of: meta.recipients[$0].address))
        }
        var held = false
        if !remoteIndices.isEmpty && settings.holdRemote {
            held = true
            let to = remoteIndices.map { "<\(meta.recipients[$0].address)>" }.joined(separator: ",")
            logger.notice("held id=\(id) to=\(to): [delivery] hold_remote is on; the message stays queued")
        } else if !remoteIndices.isEmpty {
            let groups = Dictionary(grouping: remoteIndices) { i in
                GroupKey(domain: Self.domain(of: meta.recipients[i].address).lowercased(),
                         mailFrom: meta.recipients[i].mailFrom ?? meta.mailFrom)
            }
            let snapshot = meta, message = body
            let results = await withTaskGroup(of: [(Int, RecipientResult)].self) { tasks in
                for (key, indices) in groups {
                    tasks.addTask {
                        await self.destinations.acquire(key.domain)
                        let results = await self.remote.deliver(
                            domain: key.domain, mailFrom: key.mailFrom,
                            recipients: indices.map { snapshot.recipients[$0].address }, message: message,
                            smtputf8: snapshot.smtputf8)
                        await self.destinations.release(key.domain)
                        return Array(zip(indices, results))
                    }
                }
                var all: [(Int, RecipientResult)] = []
                for await part in tasks { all += part }
                return all
            }
            for (i, result) in results {
                apply(result, to: &meta.recipients[i])
                let r = meta.recipients[i]
                switch result.outcome {
                case .sent:
                    observer?(event(.sent, .remote, meta, r, result))
                    logger.notice("sent id=\(id) to=<\(r.address)> relay=\(result.remoteMTA ?? "?") tls=\(result.tls ?? "none") reply=\"\(result.reply)\"")
                case .permanent:
                    failed.append(i)
                case .temporary:
                    break
                }
            }
        }

        // Deferred recipients: retry later, or give up.
        let deferred = meta.recipients.indices.filter { meta.recipients[$0].state == .pending && !(held && remoteIndices.contains($0)) }
        if !deferred.isEmpty {
            let attempts = deferred.map { meta.recipients[$0].attempts }.max() ?? 1
            switch settings.schedule.next(attempts: attempts, receivedAt: meta.receivedAt, now: now, jitter: jitter()) {
            case .retry(let at):
                meta.nextAttempt = at
                due[id] = at
                for i in deferred {
                    let r = meta.recipients[i], next = ISO8601DateFormatter().string(from: at)
                    observer?(event(.deferred, kind(of: r), meta, r, nil))
                    logger.notice("deferred id=\(id) to=<\(r.address)> attempts=\(r.attempts) reason=\"\(r.lastReply ?? "")\" next=\(next)")
                }
            case .giveUp:
                for i in deferred {
                    meta.recipients[i].state = .failed
                    meta.recipients[i].lastReply = "gave up after \(settings.schedule.giveUpAfter): " + (meta.recipients[i].lastReply ?? "")
                    failed.append(i)
                }
            }
        } else if held {
            meta.nextAttempt = .distantFuture
        }

        if !failed.isEmpty {
            for i in failed {
                observer?(event(.bounced, kind(of: meta.recipients[i]), meta, meta.recipients[i], nil))
                logger.notice("bounced id=\(id) to=<\(meta.recipients[i].address)> reason=\"\(meta.recipients[i].lastReply ?? "")\"")
            }
            await bounce(meta, body: body, failed: failed, now: now)
        }

        do {
            if meta.isDone {
                try await spool.remove(id: id)
            } else {
                try await spool.update(meta)
            }
        } catch {
            logger.error("queue \(id): cannot record delivery state: \(error)")
        }
    }

    /// The observer's view of one recipient's outcome.
    func event(_ result: DeliveryEvent.Result, _ kind: DeliveryEvent.Kind, _ meta: QueuedMessage,
               _ recipient: QueuedMessage.Recipient, _ outcome: RecipientResult?) -> DeliveryEvent {
        let reply = outcome?.reply ?? recipient.lastReply
        return DeliveryEvent(result: result, kind: kind, messageID: meta.id, sender: meta.mailFrom,
                             recipient: recipient.address, reply: reply,
                             enhancedStatus: outcome?.status ?? reply.flatMap(Self.enhancedStatus(in:)),
                             remoteHost: outcome?.remoteMTA ?? recipient.remoteMTA)
    }

    /// The first `x.y.z` enhanced status code in a reply line, if any.
    static func enhancedStatus(in reply: String) -> String? {
        for word in reply.split(separator: " ").prefix(4) {
            let parts = word.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 3, let c = parts[0].first, "245".contains(c), parts[0].count == 1,
               parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) { return String(word) }
        }
        return nil
    }

    /// Where a recipient goes, for the observer: the same test that picks local or remote delivery above.
    func kind(of recipient: QueuedMessage.Recipient) -> DeliveryEvent.Kind {
        recipient.command != nil || isLocalDomain(Self.domain(of: recipient.address)) ? .local : .remote
    }

    static func runPipe(_ command: String, pipe: PipeCourier, meta: QueuedMessage, body: ByteBuffer, index: Int,
                        environment: [String: String] = [:]) async -> RecipientResult {
        let r = meta.recipients[index]
        switch await pipe.deliver(command: command, message: body, sender: meta.mailFrom, recipient: r.address,
                                  originalRecipient: r.original, environment: environment) {
        case .delivered:
            return RecipientResult(address: r.address, outcome: .sent, status: "2.0.0", reply: "delivered to command")
        case .temporary(let why):
            return RecipientResult(address: r.address, outcome: .temporary, status: "4.3.0", reply: why)
        case .permanent(let why):
            return RecipientResult(address: r.address, outcome: .permanent, status: "5.3.0", reply: why)
        }
    }

    struct GroupKey: Hashable, Sendable {
        var domain: String
        var mailFrom: String
    }

    func apply(_ result: RecipientResult, to recipient: inout QueuedMessage.Recipient) {
        recipient.attempts += 1
        // Our own reasons get their enhanced status code in front, so a later DSN can report it.
        let fromServer = result.reply.first.map { $0.isNumber } ?? false
        recipient.lastReply = fromServer || result.outcome == .sent ? result.reply : "\(result.status) \(result.reply)"
        recipient.remoteMTA = result.remoteMTA
        switch result.outcome {
        case .sent: recipient.state = .sent
        case .permanent: recipient.state = .failed
        case .temporary: break
        }
    }

    /// Queues one DSN for the failed recipients of `meta` (none for the null sender).
    func bounce(_ meta: QueuedMessage, body: ByteBuffer, failed: [Int], now: Date) async {
        guard !meta.mailFrom.isEmpty else {
            logger.notice("bounce id=\(meta.id) not sent: the envelope sender is <> (RFC 5321 §4.5.5)")
            return
        }
        let recipients = failed.map { i -> DSN.Recipient in
            let r = meta.recipients[i]
            let reply = r.lastReply ?? ""
            let gaveUp = reply.hasPrefix("gave up")
            return DSN.Recipient(finalRecipient: r.address, originalRecipient: r.original, action: "failed",
                                 status: gaveUp ? "4.4.7" : Self.status(in: reply) ?? "5.0.0",
                                 remoteMTA: r.remoteMTA, diagnostic: reply)
        }
        let dsn = DSN(reportingMTA: settings.hostname, sender: meta.mailFrom, queueID: meta.id, arrivalDate: meta.receivedAt,
                      date: now, recipients: recipients, originalMessage: Array(body.readableBytesView))
        let bytes = dsn.rendered
        let dsnMeta = QueuedMessage(id: QueuedMessage.newID(now: now), mailFrom: "",
                                    recipients: [.init(address: meta.mailFrom, original: meta.mailFrom)],
                                    receivedAt: now, clientAddress: "127.0.0.1", clientName: "localhost",
                                    authenticatedUser: nil, smtputf8: false, size: bytes.count)
        do {
            try await spool.store(dsnMeta, message: ByteBuffer(bytes: bytes))
            logger.notice("queued id=\(dsnMeta.id) from=<> to=<\(meta.mailFrom)> size=\(bytes.count) dsn-for=\(meta.id)")
            due[dsnMeta.id] = now
            kick.yield()
        } catch {
            logger.error("queue \(meta.id): cannot queue the DSN: \(error)")
        }
    }

    /// The enhanced status code in a reply text like `550 5.1.1 No such user`.
    static func status(in reply: String) -> String? {
        for word in reply.split(separator: " ").prefix(3) {
            let parts = word.split(separator: ".")
            if parts.count == 3, ["4", "5"].contains(parts[0]), parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) {
                return String(word)
            }
        }
        return nil
    }

    static func domain(of address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return String(address[address.index(after: at)...])
    }
}

/// At most `limit` deliveries at once to one destination domain.
actor DestinationLimiter {
    let limit: Int
    var active: [String: Int] = [:]
    var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    init(limit: Int) { self.limit = max(limit, 1) }

    func acquire(_ key: String) async {
        if active[key, default: 0] < limit {
            active[key, default: 0] += 1
            return
        }
        await withCheckedContinuation { waiters[key, default: []].append($0) }
    }

    func release(_ key: String) {
        if var queue = waiters[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[key] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            active[key, default: 1] -= 1
            if active[key] == 0 { active[key] = nil }
        }
    }
}
