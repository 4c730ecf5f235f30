import DKIM
import DMARC
import DNSCore
import Foundation
import Logging
import NIOCore
import SMTPProtocol
import SMTPTransport

/// DKIM verification and DMARC evaluation of mail arriving unauthenticated (DESIGN.md §4), and the
/// Authentication-Results header field (RFC 8601) that records them with the SPF result taken at
/// MAIL FROM. A DMARC `p=reject` failure is refused with `550 5.7.1` unless configured otherwise.
struct InboundAuthenticator: Sendable {
    let resolver: any DNSResolving
    let hostname: String
    let rejectDMARCFailures: Bool
    let logger: Logger

    struct Outcome {
        /// nil to accept.
        var refusal: SMTPReply?
        /// `Authentication-Results: …` without CRLF.
        var headerField: String
    }

    func evaluate(message: ByteBuffer, envelope: Envelope) async -> Outcome {
        // Most mail carries no DKIM-Signature: then the header section is all there is to read (DMARC wants
        // From), and the body is neither copied nor parsed (two copies of a 100 KB message were 4% of its cost).
        let header = Array(message.readableBytesView.prefix(MessageHeader.end(in: message) ?? message.readableBytes))
        if let parsed = try? DKIMMessage(header), !parsed.headers.contains(where: { $0.hasName("DKIM-Signature") }) {
            return await conclude([], fromDomain: OutboundSigner.fromDomain(of: parsed), envelope: envelope)
        }
        let bytes = Array(message.readableBytesView)
        let now = Int64(Date().timeIntervalSince1970)
        let dkimResults = await DKIMVerifier(lookup: dnsKeyLookup(resolver)).verify(message: bytes, now: now)
        return await conclude(dkimResults, fromDomain: OutboundSigner.fromDomain(bytes), envelope: envelope)
    }

    /// DMARC over the DKIM results and the SPF result of MAIL FROM, and the Authentication-Results field.
    /// `fromDomain`: the domain of the message's From address (`OutboundSigner.fromDomain`).
    func conclude(_ dkimResults: [DKIMVerificationResult], fromDomain: String?, envelope: Envelope) async -> Outcome {
        var parts: [String] = []
        parts.append(envelope.annotations["spf.ar"] ?? "spf=none")
        if dkimResults.isEmpty {
            parts.append("dkim=none")
        } else {
            for r in dkimResults {
                parts.append("dkim=\(r.status.rawValue) header.d=\(r.domain) header.s=\(r.selector)")
            }
        }
        var refusal: SMTPReply?
        if let from = fromDomain {
            let spf = envelope.annotations["spf.result"].flatMap(DMARCAuthStatus.init(rawValue:)).map {
                DMARCSPFInput(result: $0, domain: envelope.annotations["spf.domain"] ?? "")
            }
            let dkim = dkimResults.compactMap { r in
                DMARCAuthStatus(rawValue: r.status.rawValue).map { DMARCDKIMInput(result: $0, domain: r.domain) }
            }
            let dmarc = await DMARCEvaluator().evaluate(fromDomain: from, spf: spf, dkim: dkim, resolver: resolver,
                                                        pctDraw: Int.random(in: 0..<100))
            if dmarc.status == .fail && dmarc.disposition == .reject && rejectDMARCFailures {
                refusal = SMTPReply(550, EnhancedStatusCode(5, 7, 1),
                                    "Message rejected by the DMARC policy of \(dmarc.policyDomain): not authenticated as \(from)")
                parts.append(dmarc.authenticationResult())
            } else {
                parts.append(dmarc.authenticationResult(disposition: dmarc.status == .fail && dmarc.disposition == .reject ? DMARCPolicy.none : nil))
            }
            logger.info("DKIM \(dkimResults.map { "\($0.status.rawValue) d=\($0.domain)" }.joined(separator: ", ")) DMARC \(dmarc.status) for \(from)")
        } else {
            parts.append("dmarc=none")
        }
        let field = "Authentication-Results: \(hostname);\r\n\t" + parts.joined(separator: ";\r\n\t")
        return Outcome(refusal: refusal, headerField: field)
    }

    /// Removes Authentication-Results fields that claim to come from us (RFC 8601 §5): a forged one
    /// must not be trusted by the user's mail client.
    static func removingForgedResults(_ message: ByteBuffer, hostname: String) -> ByteBuffer {
        // The fields to drop, found without copying anything: almost every message has none.
        let drop: [Range<Int>] = message.withUnsafeReadableBytes { bytes in
            var fields: [Range<Int>] = []
            var i = 0
            while i < bytes.count, bytes[i] != 13, bytes[i] != 10 {   // up to the empty line
                // One header field: a line plus its continuation lines.
                var end = i
                repeat {
                    while end < bytes.count, bytes[end] != 10 { end += 1 }
                    end = min(end + 1, bytes.count)
                } while end < bytes.count && (bytes[end] == 32 || bytes[end] == 9)
                if let colon = Self.authenticationResultsColon(bytes, from: i, to: end) {
                    let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(colon + 1)..<end]), as: UTF8.self)
                    let authserv = value.split(separator: ";").first?
                        .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").first.map(String.init) ?? ""
                    if authserv.lowercased() == hostname.lowercased() { fields.append(i..<end) }
                }
                i = end
            }
            return fields
        }
        guard !drop.isEmpty else { return message }
        var out = ByteBuffer()
        out.reserveCapacity(message.readableBytes)
        var kept = message.readerIndex
        for field in drop {
            out.writeBytes(message.readableBytesView[kept..<(message.readerIndex + field.lowerBound)])
            kept = message.readerIndex + field.upperBound
        }
        out.writeBytes(message.readableBytesView[kept...])
        return out
    }

    /// The offset of the colon when `bytes[from..<to]` is an Authentication-Results field (the name in any
    /// case, optional blanks before the colon); nil otherwise.
    static func authenticationResultsColon(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        let name = "authentication-results".utf8
        guard to - from > name.count else { return nil }
        var i = from
        for expected in name {
            guard bytes[i] | 0x20 == expected | 0x20 else { return nil }
            i += 1
        }
        while i < to, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
        return i < to && bytes[i] == UInt8(ascii: ":") ? i : nil
    }
}
