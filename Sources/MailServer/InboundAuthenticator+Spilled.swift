import DKIM
import Foundation
import NIOCore
import SMTPProtocol
import SMTPTransport

extension InboundAuthenticator {
    /// `evaluate(message:envelope:)` for a large message: DKIM body hashes computed over the spill file in
    /// chunks, everything else from the header section in memory.
    func evaluate(spilled: SpilledMessage, envelope: Envelope) async -> Outcome {
        let header = Array(spilled.header.readableBytesView)
        let now = Int64(Date().timeIntervalSince1970)
        let verifier = DKIMVerifier(lookup: dnsKeyLookup(resolver))
        let results: [DKIMVerificationResult]
        do {
            let digests = try await MessageContent.bodyDigests(spilled, verifier.bodyHashRequests(header: header))
            results = await verifier.verify(header: header, bodyHashes: digests, now: now)
        } catch {
            logger.error("DKIM: cannot read the body of a large message at \(spilled.bodyPath): \(error)")
            results = [DKIMVerificationResult(status: .temperror, reason: .keyLookupFailed("message body unreadable"))]
        }
        return await conclude(results, fromDomain: OutboundSigner.fromDomain(header), envelope: envelope)
    }
}
