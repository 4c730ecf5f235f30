import SMTPTransport

/// Per-provider limits around the SMTP conversation (`[delivery.providers.NAME]`): a connection slot from
/// connect to close (kept-open idle sessions included), a message slot before each transaction, and a
/// rate-limit deferral slowing the provider down. All no-ops for hosts of no provider or without pacing.
extension RemoteCourier {
    /// Takes a connection slot to `provider`. While all are taken, closes the provider's idle kept-open
    /// sessions (parked for any domain: their slots are wanted) and looks again every `slotPoll`.
    func openSlot(_ provider: Provider?) async {
        guard let provider, let pacing else { return }
        while !pacing.tryOpenConnection(provider) && !Task.isCancelled {
            await pool.closeIdle(provider: provider.name)
            try? await Task.sleep(for: Self.slotPoll)
        }
    }

    /// How often a delivery waiting for a provider's connection slot looks again.
    static let slotPoll = Duration.milliseconds(10)

    /// Gives the slot back (a connect that failed).
    func closeSlot(_ provider: Provider?) {
        guard let provider, let pacing else { return }
        pacing.connectionClosed(provider)
    }

    /// Gives the slot back whenever `connection` closes, whoever closes it (QUIT, error, idle timeout).
    func releaseSlotOnClose(_ connection: SMTPClientConnection, _ provider: Provider?) {
        guard let provider, let pacing else { return }
        connection.channel.closeFuture.whenComplete { _ in pacing.connectionClosed(provider) }
    }

    /// Waits for the provider's next message slot.
    func messageSlot(_ provider: Provider?) async {
        guard let provider, let pacing else { return }
        await pacing.awaitMessageSlot(provider)
    }

    /// A reply refusing for "too fast" slows the provider down.
    func noteRateLimit(_ reply: SMTPClientReply, _ provider: Provider?) {
        guard let provider, let pacing, PaceState.isRateLimit(reply) else { return }
        logger.notice("provider \(provider.name) rate-limits us (\(reply)): half pace for \(Int(PaceState.slowdown / 60)) minutes")
        pacing.rateLimited(provider)
    }

    /// The results with their provider set; one rate-limit deferral among them slows the provider down.
    func paced(_ results: [RecipientResult], _ provider: Provider?) -> [RecipientResult] {
        guard let provider else { return results }
        if let limited = results.compactMap(\.remoteReply).first(where: PaceState.isRateLimit) {
            noteRateLimit(limited, provider)
        }
        return results.map { r in
            var r = r
            r.provider = provider.name
            return r
        }
    }
}
