import DKIM
import DMARC
import DNSCore
import Foundation
import Logging
import NIOCore
import SMTPProtocol

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
        let bytes = Array(message.readableBytesView)
        let now = Int64(Date().timeIntervalSince1970)
        let dkimResults = await DKIMVerifier(lookup: dnsKeyLookup(resolver)).verify(message: bytes, now: now)
        return await conclude(dkimResults, header: bytes, envelope: envelope)
    }

    /// DMARC over the DKIM results and the SPF result of MAIL FROM, and the Authentication-Results field.
    /// `header` is the message or its header section (only the From field is read).
    func conclude(_ dkimResults: [DKIMVerificationResult], header bytes: [UInt8], envelope: Envelope) async -> Outcome {
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
        if let from = OutboundSigner.fromDomain(bytes) {
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
        let bytes = Array(message.readableBytesView)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        var changed = false
        while i < bytes.count {
            // One header field: a line plus its continuation lines.
            var end = i
            repeat {
                while end < bytes.count, bytes[end] != 10 { end += 1 }
                end = min(end + 1, bytes.count)
            } while end < bytes.count && (bytes[end] == 32 || bytes[end] == 9)
            let field = bytes[i..<end]
            if field.first == 13 || field.first == 10 { out.append(contentsOf: bytes[i...]); break }   // end of header
            let text = String(decoding: field, as: UTF8.self)
            if let colon = text.firstIndex(of: ":"),
               text[..<colon].trimmingCharacters(in: .whitespaces).lowercased() == "authentication-results" {
                let authserv = text[text.index(after: colon)...].split(separator: ";").first?
                    .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").first.map(String.init) ?? ""
                if authserv.lowercased() == hostname.lowercased() { changed = true; i = end; continue }
            }
            out.append(contentsOf: field)
            i = end
        }
        return changed ? ByteBuffer(bytes: out) : message
    }
}
