import DNSCore
import Foundation
import Logging
import MailQueue
import MailStore
import NIOCore

/// Sends the daily TLS-RPT reports (RFC 8460 §4, §5.3) from the counters `TLSReportRecorder` keeps.
///
/// - Counters go to the store every `flushInterval`.
/// - Shortly after 00:00 UTC, after a random delay of up to `maxDelay` (§4.1: spread the load on the
///   receivers), and at start: for every earlier day still in the store and each of its policy domains, the
///   domain's `_smtp._tls` TXT record (§3) is read; with `rua=mailto:` addresses the report is built,
///   gzip'd, put in the §5.3 message, DKIM-signed (`sign`) and queued to each address like a bounce, from
///   the null sender `<>` so that nothing can bounce back; `https:` endpoints get it by POST (`post`). The
///   day's rows of that domain are then removed.
///   A domain that publishes no record gets no report; a DNS failure keeps the rows for the next run (for
///   at most `keepDays`).
/// - A file `<trigger>` (written by `apus tls-report send --now`) sends everything counted so far, today
///   included, at the next tick, and is removed.
/// - `https:` rua endpoints get the gzip'd JSON by POST (§5.4) through `post`; without it they are logged and
///   skipped.
public actor TLSReportSender {
    public struct Settings: Sendable {
        public var hostname: String
        /// `From:` of the report mail (an address of a local domain, so that it can be DKIM-signed).
        public var fromAddress: String
        /// `contact-info` in the report.
        public var contact: String
        public var triggerFile: String?
        public var tick: Duration
        public var flushInterval: Duration
        public var maxDelay: Duration
        public var keepDays: Int

        public init(hostname: String, fromAddress: String, contact: String, triggerFile: String? = nil,
                    tick: Duration = .seconds(1), flushInterval: Duration = .seconds(60),
                    maxDelay: Duration = .seconds(1800), keepDays: Int = 7) {
            self.hostname = hostname
            self.fromAddress = fromAddress
            self.contact = contact
            self.triggerFile = triggerFile
            self.tick = tick
            self.flushInterval = flushInterval
            self.maxDelay = maxDelay
            self.keepDays = keepDays
        }
    }

    let settings: Settings
    let recorder: TLSReportRecorder
    let store: any TLSReportStore
    let dns: any DNSResolving
    let spool: any Spool
    let router: Router
    let sign: @Sendable ([UInt8]) async -> [UInt8]
    let queued: @Sendable (String) -> Void
    /// POSTs a gzip'd report to an https endpoint (`TLSReportPoster`); returns nil on success, else why not.
    let post: (@Sendable (_ url: String, _ gzip: [UInt8]) async -> String?)?
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(settings: Settings, recorder: TLSReportRecorder, store: any TLSReportStore, dns: any DNSResolving,
                spool: any Spool, router: Router, sign: @escaping @Sendable ([UInt8]) async -> [UInt8] = { $0 },
                queued: @escaping @Sendable (String) -> Void = { _ in },
                post: (@Sendable (_ url: String, _ gzip: [UInt8]) async -> String?)? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.post = post
        self.settings = settings
        self.recorder = recorder
        self.store = store
        self.dns = dns
        self.spool = spool
        self.router = router
        self.sign = sign
        self.queued = queued
        self.clock = clock
        self.logger = logger
    }

    /// Runs until cancelled; the counters are flushed once more on the way out.
    public func run() async {
        await send(through: Self.previousDay(clock()))
        var next = nextRun(after: clock())
        var sinceFlush = Duration.zero
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.tick)
            if Task.isCancelled { break }
            sinceFlush += settings.tick
            if sinceFlush >= settings.flushInterval {
                sinceFlush = .zero
                await recorder.flush()
            }
            if let trigger = settings.triggerFile, FileManager.default.fileExists(atPath: trigger) {
                logger.info("TLS-RPT: reports of everything counted so far requested (apus tls-report send --now)")
                await send(through: TLSReportRecorder.day(clock()), early: true)
                unlink(trigger)   // after: `apus tls-report send --now` waits for this
            }
            if clock() >= next {
                await send(through: Self.previousDay(clock()))
                next = nextRun(after: clock())
            }
        }
        // The last counts are stored even though this task is cancelled (the store's writes refuse to start
        // in a cancelled task): an unstructured task, awaited here.
        let recorder = self.recorder
        await Task.detached { await recorder.flush() }.value
    }

    /// The next 00:00 UTC after `date`, plus a random delay.
    func nextRun(after date: Date) -> Date {
        let midnight = (floor(date.timeIntervalSince1970 / 86_400) + 1) * 86_400
        let delay = Double.random(in: 0...Double(settings.maxDelay.components.seconds))
        return Date(timeIntervalSince1970: midnight + delay)
    }

    static func previousDay(_ date: Date) -> String { TLSReportRecorder.day(date.addingTimeInterval(-86_400)) }

    /// Reports every (day, policy domain) counted up to `day`; returns the ids of the messages queued.
    /// `early`: today's counts go too, the date range ending now.
    @discardableResult
    public func send(through day: String, early: Bool = false) async -> [String] {
        await recorder.flush()
        let rows: [TLSResultRow]
        do { rows = try await store.tlsResults(through: day) } catch {
            logger.error("TLS-RPT: cannot read the counters: \(error)")
            return []
        }
        var order: [String] = []
        var groups: [String: [TLSResultRow]] = [:]
        for row in rows {
            let key = row.day + " " + row.policyDomain
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(row)
        }
        var ids: [String] = []
        for key in order {
            let members = groups[key]!
            ids += await report(day: members[0].day, domain: members[0].policyDomain, rows: members, early: early)
        }
        return ids
    }

    func report(day: String, domain: String, rows: [TLSResultRow], early: Bool) async -> [String] {
        let record: TLSRPTRecord?
        switch await dns.txt("_smtp._tls.\(domain)") {
        case .success(let texts): record = TLSRPTRecord.find(in: texts)
        case .failure(.nxdomain), .failure(.noData): record = nil
        case .failure(let failure):
            if Self.age(of: day, now: clock()) <= settings.keepDays {
                logger.warning("TLS-RPT: _smtp._tls.\(domain) lookup failed (\(failure)); the report of \(day) waits for the next run")
                return []
            }
            record = nil
        }
        guard let record else {
            logger.debug("TLS-RPT: \(domain) publishes no _smtp._tls record: no report for \(day)")
            await forget(day: day, domain: domain)
            return []
        }
        let now = clock()
        let begin = Self.start(of: day)
        let end = early ? now : begin.addingTimeInterval(86_399)
        for url in record.https {
            guard let post else {
                logger.notice("TLS-RPT: \(domain) asks for reports at \(url); https delivery is off here, only mailto")
                continue
            }
            let unique = QueuedMessage.newID(now: now)
            let report = TLSReport(rows: rows, organization: settings.hostname, contact: settings.contact,
                                   reportID: "\(day)_\(domain)_\(unique)@\(settings.hostname)", day: day,
                                   end: early ? now : nil)
            if let failure = await post(url, Gzip.wrap(report.json)) {
                logger.warning("TLS-RPT: the report of \(day) for \(domain) could not be posted to \(url): \(failure)")
            } else {
                logger.notice("TLS-RPT: report of \(day) for \(domain) posted to \(url)")
            }
        }
        var ids: [String] = []
        for address in record.mailto {
            let unique = QueuedMessage.newID(now: now)
            let report = TLSReport(rows: rows, organization: settings.hostname, contact: settings.contact,
                                   reportID: "\(day)_\(domain)_\(unique)@\(settings.hostname)", day: day,
                                   end: early ? now : nil)
            let message = TLSReportMessage(report: report, policyDomain: domain, submitter: settings.hostname,
                                           from: settings.fromAddress, to: address, begin: begin, end: end,
                                           date: now, uniqueID: unique)
            let bytes = await sign(message.rendered)
            var meta = QueuedMessage(id: unique, mailFrom: "", recipients: [.init(address: address, original: address)],
                                     receivedAt: now, clientAddress: "127.0.0.1", clientName: "localhost",
                                     authenticatedUser: nil, smtputf8: false, size: bytes.count)
            meta.recipients[0].route = router.route(address: address, command: nil)
            do {
                try await spool.store(meta, message: ByteBuffer(bytes: bytes))
            } catch {
                logger.error("TLS-RPT: cannot queue the report of \(day) for \(domain) to <\(address)>: \(error)")
                continue
            }
            let sessions = report.policies.reduce(0) { $0 + $1.summary.successful + $1.summary.failed }
            logger.notice("queued id=\(unique) from=<> to=<\(address)> size=\(bytes.count) tls-report=\(domain) day=\(day) sessions=\(sessions)")
            queued(unique)
            ids.append(unique)
        }
        await forget(day: day, domain: domain)
        return ids
    }

    func forget(day: String, domain: String) async {
        do { try await store.removeTLSResults(day: day, policyDomain: domain) } catch {
            logger.error("TLS-RPT: cannot remove the counters of \(day) for \(domain): \(error)")
        }
    }

    static func start(of day: String) -> Date {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard parts.count == 3,
              let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])) else {
            return Date(timeIntervalSince1970: 0)
        }
        return date
    }

    static func age(of day: String, now: Date) -> Int {
        Int(now.timeIntervalSince(start(of: day)) / 86_400)
    }
}
