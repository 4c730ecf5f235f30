import DKIM
import Foundation
import NIOCore
import NIOPosix
import SMTPProtocol
import SMTPTransport

/// A message being accepted (`ServerDelegate.accept`): whole in memory, or — when it was large — its header
/// section in memory and its body in a spill file (docs/architecture.md "Large messages"). Every step reads
/// only what it needs: loop and unsubscribe checks, DMARC and the From domain read the header; DKIM reads the
/// body of a spilled message in chunks from its file; the queue file copies it kernel-side.
enum MessageContent: Sendable {
    case memory(ByteBuffer)
    case spilled(SpilledMessage)

    /// What is in memory: the whole message, or the header section of a spilled one.
    var header: ByteBuffer {
        get {
            switch self {
            case .memory(let message): return message
            case .spilled(let spilled): return spilled.header
            }
        }
        set {
            switch self {
            case .memory: self = .memory(newValue)
            case .spilled(var spilled):
                spilled.header = newValue
                self = .spilled(spilled)
            }
        }
    }

    var inMemoryBytes: Int { header.readableBytes }
    /// Bytes in the spill file (0 in memory).
    var bodyFileBytes: Int {
        if case .spilled(let spilled) = self { return spilled.bodyBytes }
        return 0
    }
    var size: Int { inMemoryBytes + bodyFileBytes }

    /// DKIM verification and DMARC of mail arriving on port 25.
    func evaluate(_ authenticator: InboundAuthenticator, envelope: Envelope) async -> InboundAuthenticator.Outcome {
        switch self {
        case .memory(let message): return await authenticator.evaluate(message: message, envelope: envelope)
        case .spilled(let spilled): return await authenticator.evaluate(spilled: spilled, envelope: envelope)
        }
    }

    /// The content with DKIM-Signature fields on top when its From domain is ours and has keys.
    func signed(by signer: OutboundSigner, isLocalDomain: (String) -> Bool) async -> MessageContent {
        switch self {
        case .memory(let message):
            return .memory(await signer.sign(message, isLocalDomain: isLocalDomain))
        case .spilled(var spilled):
            let fields = await signer.signatureFields(spilled, isLocalDomain: isLocalDomain)
            guard !fields.isEmpty else { return self }
            var header = ByteBufferAllocator().buffer(capacity: fields.count + spilled.header.readableBytes)
            header.writeBytes(fields)
            header.writeImmutableBuffer(spilled.header)
            spilled.header = header
            return .spilled(spilled)
        }
    }

    /// The message as the report parser reads it (DSNs, ARF complaints): a report's parts come first, so of a
    /// spilled message only the first `reportBodyBytes` of the body are read.
    func forReports(_ full: ByteBuffer) async -> ByteBuffer {
        guard case .spilled(let spilled) = self else { return full }
        let prefix = try? await NIOThreadPool.singleton.runIfActive {
            var withBody = spilled
            withBody.header = full
            return try withBody.readWhole(limit: Self.reportBodyBytes)
        }
        return prefix ?? full
    }

    static let reportBodyBytes = 1024 * 1024

    /// The digests of a spilled body for `requests`, in one pass over its file on NIO's thread pool.
    static func bodyDigests(_ spilled: SpilledMessage, _ requests: Set<DKIMBodyHashRequest>) async throws
        -> [DKIMBodyHashRequest: DKIMBodyDigest] {
        guard !requests.isEmpty else { return [:] }
        return try await NIOThreadPool.singleton.runIfActive {
            var hashes = DKIMBodyHashSet(requests)
            try spilled.forEachBodyChunk { hashes.update($0) }
            return hashes.finish()
        }
    }
}
