import DNSCore
import Foundation
import Logging
import NIOCore
import SMTPProtocol

/// What the server's inbound checks would say about a message, without a server: `apus verify`.
public enum MessageVerification {
    /// The SPF result line, the Received-SPF field and the Authentication-Results field the server
    /// would add for this client, envelope sender and message; plus the reply it would refuse with.
    public static func check(message: [UInt8], clientIP: String, helo: String, mailFrom: String,
                             hostname: String, resolver: any DNSResolving) async -> (fields: [String], refusal: SMTPReply?) {
        var logger = Logger(label: "apus.verify")
        logger.logLevel = .error
        let sender: ReversePath
        if mailFrom.isEmpty || mailFrom == "<>" {
            sender = .null
        } else if let mailbox = try? Mailbox.parse(mailFrom.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))) {
            sender = .mailbox(mailbox)
        } else {
            return ([], .c501BadSender("Cannot parse the sender \(mailFrom)"))
        }
        let verdict = await SenderChecker(resolver: resolver, hostname: hostname, rejectFail: true, logger: logger)
            .check(sender, heloName: helo, clientAddress: clientIP)
        var fields = verdict.traceFields
        var envelope = Envelope(mailFrom: sender, recipients: [], parameters: MailParameters(), clientName: helo,
                                authenticatedUser: nil, protocolName: "ESMTP")
        envelope.annotations = verdict.annotations
        let normalized = ByteBuffer(bytes: normalizeLineEndings(message))
        let outcome = await InboundAuthenticator(resolver: resolver, hostname: hostname, rejectDMARCFailures: true,
                                                 logger: logger).evaluate(message: normalized, envelope: envelope)
        fields.insert(outcome.headerField, at: 0)
        return (fields, verdict.refusal ?? outcome.refusal)
    }

    /// Files saved on Unix end lines with LF; mail on the wire uses CRLF.
    static func normalizeLineEndings(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 20)
        var previous: UInt8 = 0
        for b in bytes {
            if b == 10 && previous != 13 { out.append(13) }
            out.append(b)
            previous = b
        }
        return out
    }
}
