#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import SMTPProtocol

/// Large messages to disk as they arrive (`DataSpillPolicy`, docs/architecture.md "Large messages"). After
/// each read of DATA the handler looks at what the decoder holds: past the threshold, or when all
/// connections together hold more than the memory budget, the message starts spilling — its header section
/// stays in memory, its body goes to a `.tmp-spill-…` file in the queue directory in pieces of
/// `DataSpillPolicy.writeBytes`, processing paused while a piece is being written (reading too once
/// `maxBufferedWhileWaiting` more has arrived), so that a fast client cannot outrun the disk. Messages under
/// the threshold never reach this code beyond one comparison.
extension SMTPServerHandler {
    /// Called when the decoder needs more input: starts or continues spilling when due.
    func spillIfDue(context: ChannelHandlerContext) {
        guard let policy = settings.spill, let stored = dataDecoder?.storedBytes else { return }
        if let spill {
            if stored >= DataSpillPolicy.writeBytes { write(spill, context: context) }
            return
        }
        guard stored > DataSpillPolicy.uncountedBytes else { return }
        let withinBudget = policy.budget.charge(stored - charged)
        charged = stored
        guard stored >= policy.thresholdBytes || !withinBudget else { return }
        let spill = DataSpill(file: SpillFile(directory: policy.directory, eventLoop: context.eventLoop))
        self.spill = spill
        let reason = withinBudget ? "larger than \(policy.thresholdBytes) bytes"
            : "DATA in memory over the budget of \(policy.budget.limit) bytes"
        logger.debug("message to disk as it arrives (\(reason)): \(spill.file.path)")
        write(spill, context: context)
    }

    /// Hands what the decoder holds to the spill; reading waits until the write is done.
    private func write(_ spill: DataSpill, context: ChannelHandlerContext) {
        guard let chunk = dataDecoder?.takeStored(reserving: DataSpillPolicy.writeBytes + 64 * 1024) else { return }
        let charge = charged
        charged = 0
        guard let written = spill.take(chunk) else {
            settings.spill?.budget.release(charge)
            return
        }
        pause(context: context)
        written.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            self.settings.spill?.budget.release(charge)
            if case .failure(let error) = result, spill.failure == nil {
                spill.failure = error
                self.logger.error("cannot write a message from \(self.info.remoteAddress) to disk, it will be refused: \(error)")
            }
            guard context.channel.isActive else { return }
            self.waiting = false
            if self.shuttingDown {
                self.closeForShutdown(context: context)
                return
            }
            self.resumeReading(context: context)
            self.processBuffer(context: context)
        }
    }

    /// The end of DATA reached a spilled message: write the rest, close the file, hand it to the delegate.
    /// `promise` gets the delegate's answer (or `452`/`451` when the file could not be written); the file is
    /// removed once the delegate is done with it.
    func enqueueSpilled(_ spill: DataSpill, tail: ByteBuffer, envelope: Envelope,
                        promise: EventLoopPromise<Result<String, SMTPReply>>, context: ChannelHandlerContext) {
        let (delegate, info, logger) = (self.delegate, self.info, self.logger)
        let file = spill.file
        promise.futureResult.assumeIsolated().whenComplete { _ in file.remove() }
        spill.finish(tail: tail).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let spilled):
                logger.debug("-> [message on disk: \(spilled.header.readableBytes) bytes of header, \(spilled.bodyBytes) of body]")
                promise.completeWithTask { await delegate.accept(envelope: envelope, spilled: spilled, connection: info) }
            case .failure(let error):
                if spill.failure == nil { logger.error("cannot write a message from \(info.remoteAddress) to disk: \(error)") }
                let full = (error as? SpillError)?.errno == ENOSPC
                promise.succeed(.failure(full ? .c452InsufficientStorage : .c451LocalError))
            }
        }
    }

    /// After the session's answer to the end of DATA: a spill no enqueue took (the message was refused) is
    /// removed, and a memory charge no enqueue took is released.
    func dataFinished() {
        if let spill {
            self.spill = nil
            spill.file.remove()
        }
        settings.spill?.budget.release(pendingCharge)
        pendingCharge = 0
    }

    /// The connection ended: a DATA in progress leaves no file and no charge behind.
    func abandonData() {
        if let spill {
            self.spill = nil
            spill.file.remove()
            logger.debug("connection closed during DATA: removed \(spill.file.path)")
        }
        settings.spill?.budget.release(charged + pendingCharge)
        charged = 0
        pendingCharge = 0
    }
}
