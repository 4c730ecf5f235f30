import Foundation
import Logging
import MailMessage
import MailQueue
import NIOCore

/// Drives every queued message to its end (DESIGN.md §1, §4). One attempt (`process`, in
/// `QueueRunner+Attempt.swift`) loads a message, groups its pending recipients by route (`Router`,
/// `DeliveryPlan`), hands each group to that route's `Courier` (`CourierTable`), records the typed results
/// (`AttemptOutcome`), queues a DSN for failures (`Bounce`) and schedules the next attempt. This file is the
/// scheduling around it:
///
/// - At start everything pending is due at once (a restart retries immediately).
/// - A new message's id arrives through `wakeups` and is delivered at once.
/// - A deferred message carries `nextAttempt` (from `RetrySchedule`) in its `.state` file; the runner
///   tries again then. Past `give_up_after` the remaining recipients fail with `4.4.7`.
/// - Permanent failures and give-ups produce one DSN per message to the envelope sender (never for `<>`),
///   queued like any message: a local sender finds it in their mailbox. Still pending after
///   `delay_warning_after`: one "delayed" DSN.
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
        /// `[delivery] delay_warning_after`: one "delayed" DSN when a message is still pending this long after
        /// it arrived; zero never.
        public var delayWarningAfter: Duration
        public var triggerDirectory: String?
        public var tick: Duration
        public var scanInterval: Duration
        public var maxConcurrent: Int
        public var maxPerDestination: Int

        public init(hostname: String, schedule: RetrySchedule = RetrySchedule(), holdRemote: Bool = false,
                    delayWarningAfter: Duration = .seconds(4 * 3600), triggerDirectory: String? = nil,
                    tick: Duration = .seconds(1), scanInterval: Duration = .seconds(60),
                    maxConcurrent: Int = 32, maxPerDestination: Int = 4) {
            self.hostname = hostname
            self.schedule = schedule
            self.holdRemote = holdRemote
            self.delayWarningAfter = delayWarningAfter
            self.triggerDirectory = triggerDirectory
            self.tick = tick
            self.scanInterval = scanInterval
            self.maxConcurrent = maxConcurrent
            self.maxPerDestination = maxPerDestination
        }
    }

    let settings: Settings
    let spool: any Spool
    let couriers: CourierTable
    let router: Router
    let clock: @Sendable () -> Date
    let jitter: @Sendable () -> Double
    let logger: Logger
    let destinations: DestinationLimiter
    let memoryGate = DeliveryMemoryGate()
    /// Told of every recipient outcome: sent, deferred, bounced, delayed (metrics, the event store).
    let observer: (@Sendable (DeliveryEvent) -> Void)?

    var due: [String: Date] = [:]
    /// Ids made due "now" (new messages, retries asked for), oldest first: `takeReady` serves them in order
    /// without sorting `due`, which holds every scheduled message (thousands while a backlog drains).
    var immediate: [String] = []
    var immediateHead = 0
    var running: Set<String> = []
    let kicks: AsyncStream<Void>
    let kick: AsyncStream<Void>.Continuation

    public init(settings: Settings, spool: any Spool, couriers: CourierTable, router: Router,
                clock: @escaping @Sendable () -> Date = { Date() },
                jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
                observer: (@Sendable (DeliveryEvent) -> Void)? = nil, logger: Logger) {
        self.settings = settings
        self.spool = spool
        self.couriers = couriers
        self.router = router
        self.clock = clock
        self.jitter = jitter
        self.observer = observer
        self.logger = logger
        self.destinations = DestinationLimiter(limit: settings.maxPerDestination)
        (kicks, kick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// When `id` is next due in this runner (tests with a fake clock read it), nil when not scheduled.
    public func dueDate(of id: String) -> Date? { due[id] }

    /// Runs until cancelled. `wakeups` carries ids of newly queued messages.
    ///
    /// With an `executor` (the server passes an event loop's, the loop its SMTP client connections use),
    /// the runner, its attempts and the actors they call (SE-0417: default actors run on the task's
    /// preferred executor) stay on that one thread: a delivery no longer wakes the global pool at each
    /// step — new id, schedule, destination slot, pooled session, each reply, result — which cost two
    /// context switches a step. Nothing here may block it: file I/O goes to the thread pool or the queue
    /// writer.
    public nonisolated func run(wakeups: AsyncStream<String>, executor: (any TaskExecutor)? = nil) async {
        await withTaskExecutorPreference(executor) { await self.schedule(wakeups: wakeups) }
    }

    private nonisolated func schedule(wakeups: AsyncStream<String>) async {
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
        immediate.append(id)
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
        guard running.count < settings.maxConcurrent else { return [] }
        var ready: [String] = []
        // First the messages made due now, in arrival order (no sort, no scan of the whole schedule).
        while immediateHead < immediate.count, running.count < settings.maxConcurrent {
            let id = immediate[immediateHead]
            immediateHead += 1
            guard due[id] != nil, !running.contains(id) else { continue }   // taken meanwhile
            due[id] = nil
            running.insert(id)
            ready.append(id)
        }
        if immediateHead == immediate.count {
            immediate.removeAll(keepingCapacity: true)
            immediateHead = 0
        } else if immediateHead > 4096 {
            immediate.removeFirst(immediateHead)
            immediateHead = 0
        }
        guard running.count < settings.maxConcurrent else { return ready }
        // Then scheduled ones that came due. Only those are sorted: a message waiting for a retry costs a
        // comparison.
        let now = clock()
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
}
