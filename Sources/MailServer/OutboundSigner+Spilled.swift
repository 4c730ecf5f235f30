import DKIM
import Foundation
import NIOCore
import NIOPosix
import SMTPTransport

extension OutboundSigner {
    /// The DKIM-Signature fields for a large message (header in memory, body in its spill file), empty when
    /// it is not signed (From domain not ours, no key, or a failure, which is logged). The body hash is
    /// computed over the file in chunks on NIO's thread pool; the message is never read whole.
    func signatureFields(_ spilled: SpilledMessage, isLocalDomain: (String) -> Bool) async -> [UInt8] {
        let header = Array(spilled.header.readableBytesView)
        guard let domain = Self.fromDomain(header), isLocalDomain(domain) else { return [] }
        let domainKeys = keys(for: domain)
        guard !domainKeys.isEmpty else { return [] }
        let signer = DKIMSigner(timestamp: Int64(Date().timeIntervalSince1970))
        do {
            let body = try await MessageContent.bodyDigests(spilled, [DKIMBodyHashRequest(canonicalization: signer.bodyCanonicalization)])
            guard let digest = body.values.first else { return [] }
            return try await NIOThreadPool.singleton.runIfActive {
                try signer.signatureFields(header: header, body: digest, keys: domainKeys)
            }
        } catch {
            logger.error("DKIM signing for \(domain) failed, sending unsigned: \(error)")
            return []
        }
    }
}
