import DNSCore
import Foundation
import Logging
import SMTPProtocol
import SPF

/// SPF at MAIL FROM for unauthenticated sessions (RFC 7208; DESIGN.md §4): a `fail` is refused with
/// `550 5.7.23` (RFC 7372) unless the configuration only tags it; a DNS error is `451 4.7.24` so the
/// sender retries; every other result is accepted and recorded in a `Received-SPF` field.
struct SenderChecker: Sendable {
    let resolver: any DNSResolving
    let hostname: String
    let rejectFail: Bool
    let logger: Logger

    func check(_ sender: ReversePath, heloName: String, clientAddress: String) async -> SenderVerdict {
        guard let ip = IPAddress(clientAddress) else { return SenderVerdict() }
        let verifier = SPFVerifier(resolver: resolver,
                                   options: SPFOptions(receiver: hostname, timestamp: Int(Date().timeIntervalSince1970)))
        let mailFrom = sender.mailbox.map { "\($0.localPart)@\($0.domain.lookupKey)" } ?? ""
        let result = await verifier.checkMailFrom(ip: ip, mailFrom: mailFrom, helo: heloName)
        let field = result.receivedSPFHeader(receiver: hostname)
        logger.info("SPF \(result.result) for <\(mailFrom)> from \(clientAddress) helo=\(heloName)")
        // The fields are filled in even with a refusal: `apus verify` shows them; the session drops them.
        var verdict = SenderVerdict(traceFields: [field], annotations: [
            "spf.result": result.result.rawValue, "spf.domain": result.domain,
            "spf.ar": result.authenticationResultsPart])
        switch result.result {
        case .fail where rejectFail:
            let why = result.explanation.map { ": \($0)" } ?? ""
            verdict.refusal = SMTPReply(550, EnhancedStatusCode(5, 7, 23),
                "SPF check failed: \(clientAddress) is not allowed to send mail for \(result.domain)\(why)")
        case .temperror where rejectFail:
            verdict.refusal = SMTPReply(451, EnhancedStatusCode(4, 7, 24),
                "SPF check could not be completed (DNS error); try again later")
        default:
            break
        }
        return verdict
    }
}
