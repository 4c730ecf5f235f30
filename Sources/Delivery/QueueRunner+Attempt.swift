import Foundation
import Logging
import MailQueue
import NIOCore

extension QueueRunner {
    /// One delivery attempt for every pending recipient of one message: load, group by route, hand each
    /// group to its courier, record the typed results, schedule what is left, queue the DSNs, save.
    public func process(_ id: String) async {
        // Large messages are loaded whole: bound how many are in memory at once (DeliveryMemoryGate).
        let gated = await memoryGate.enter(await spool.storedSize(id: id))
        await attempt(id)
        if gated > 0 { await memoryGate.leave(gated) }
    }

    func attempt(_ id: String) async {
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
        let plan = DeliveryPlan(meta, body: body, router: router, couriers: couriers)
        let held = settings.holdRemote ? plan.groups.filter { !$0.batch.route.isLocal } : []
        for group in held {
            let to = group.batch.addresses.map { "<\($0)>" }.joined(separator: ",")
            logger.notice("held id=\(id) to=\(to): [delivery] hold_remote is on; the message stays queued")
        }
        let results = await deliver(plan.groups.filter { !settings.holdRemote || $0.batch.route.isLocal })

        var failed: [Int] = []
        for (group, i, result) in results {
            let diagnosis = Diagnosis.explain(result, hostname: settings.hostname)
            AttemptOutcome.record(result, diagnosis: diagnosis, on: &meta.recipients[i])
            if result.outcome == .permanent { failed.append(i) }
            report(result, route: group.route, meta: meta, index: i)
        }
        let heldIndices = Set(held.flatMap(\.indices))
        let settlement = AttemptOutcome.settle(&meta, held: heldIndices, now: now,
                                               schedule: settings.schedule, jitter: jitter(),
                                               delayWarningAfter: settings.delayWarningAfter)
        if let at = settlement.retryAt {
            due[id] = at
            reportDeferred(meta, at: at, held: heldIndices)
        }
        for i in settlement.gaveUp { report(gaveUp: i, meta: meta) }
        if !settlement.delayed.isEmpty {
            for i in settlement.delayed { observe(.delayed, meta: meta, index: i) }
            await queueNotice(.delayed, for: meta, recipients: settlement.delayed, body: body, now: now)
        }
        if !(failed + settlement.gaveUp).isEmpty {
            await queueNotice(.failed, for: meta, recipients: failed + settlement.gaveUp, gaveUp: Set(settlement.gaveUp),
                              body: body, now: now)
        }
        do {
            if meta.isDone { try await spool.remove(id: id) } else { try await spool.update(meta) }
        } catch {
            logger.error("queue \(id): cannot record delivery state: \(error)")
        }
    }

    /// Every group to its courier, the groups in parallel; remote groups at most `maxPerDestination` at once
    /// per domain. One (batch, recipient index, result) per recipient.
    func deliver(_ groups: [DeliveryPlan.Group]) async -> [(DeliveryBatch, Int, RecipientResult)] {
        let couriers = self.couriers, destinations = self.destinations
        return await withTaskGroup(of: [(DeliveryBatch, Int, RecipientResult)].self) { tasks in
            for group in groups {
                tasks.addTask {
                    let batch = group.batch
                    let limited = batch.route == .remote
                    if limited { await destinations.acquire(batch.destination) }
                    var results = await couriers.courier(for: batch.route).deliver(batch)
                    if limited { await destinations.release(batch.destination) }
                    // A courier owes one result per recipient; a missing one is a temporary failure, not a crash.
                    while results.count < batch.recipients.count {
                        let address = batch.recipients[results.count].address
                        results.append(RecipientResult(address: address, outcome: .temporary, status: .init(4, 3, 0),
                                                       reason: "the \(batch.route.rawValue) courier gave no result"))
                    }
                    return zip(group.indices, results).map { (batch, $0, $1) }
                }
            }
            var all: [(DeliveryBatch, Int, RecipientResult)] = []
            for await part in tasks { all += part }
            return all.sorted { $0.1 < $1.1 }
        }
    }

    /// Queues a DSN about `indices` of `meta` to its sender (none for the null sender).
    func queueNotice(_ kind: Bounce.Kind, for meta: QueuedMessage, recipients indices: [Int], gaveUp: Set<Int> = [],
                     body: ByteBuffer, now: Date) async {
        guard !meta.mailFrom.isEmpty else {
            logger.notice("bounce id=\(meta.id) not sent: the envelope sender is <> (RFC 5321 §4.5.5)")
            return
        }
        var (envelope, bytes) = Bounce.notice(kind, for: meta, recipients: indices, gaveUp: gaveUp,
                                              hostname: settings.hostname, giveUpAfter: settings.schedule.giveUpAfter,
                                              body: body, id: QueuedMessage.newID(now: now), now: now)
        for i in envelope.recipients.indices {
            envelope.recipients[i].route = router.route(address: envelope.recipients[i].address, command: nil)
        }
        // RFC 8689 §5: the notice about a REQUIRETLS message travels under REQUIRETLS too (it quotes the
        // original header only, never the body).
        if meta.requiresTLS { envelope.requireTLS = true }
        do {
            try await spool.store(envelope, message: ByteBuffer(bytes: bytes))
            logger.notice("queued id=\(envelope.id) from=<> to=<\(meta.mailFrom)> size=\(bytes.count) dsn-for=\(meta.id) action=\(kind.rawValue)")
            due[envelope.id] = now
            kick.yield()
        } catch {
            logger.error("queue \(meta.id): cannot queue the DSN: \(error)")
        }
    }
}
