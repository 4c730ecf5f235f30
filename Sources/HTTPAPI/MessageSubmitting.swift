/// How the API hands a built message to the mail server: the same path as an authenticated SMTP
/// submission (alias expansion, DKIM signing, durable queue). `submit` returns after the fsync.
public protocol MessageSubmitting: Sendable {
    /// Queues `message` from `mailFrom` to `recipients`; returns the queue id, or an error to answer with.
    func submit(mailFrom: String, recipients: [String], message: [UInt8], keyID: String,
                clientAddress: String) async -> Result<String, APIError>
    /// The same, marked REQUIRETLS (RFC 8689) when `requireTLS` (`"require_tls": true`).
    func submit(mailFrom: String, recipients: [String], message: [UInt8], keyID: String,
                clientAddress: String, requireTLS: Bool) async -> Result<String, APIError>
    /// A fresh queue id, for a request whose every recipient is suppressed (nothing is queued).
    func newMessageID() -> String
}

extension MessageSubmitting {
    /// Submitters that know nothing of REQUIRETLS (test doubles) queue the message as usual.
    public func submit(mailFrom: String, recipients: [String], message: [UInt8], keyID: String,
                       clientAddress: String, requireTLS: Bool) async -> Result<String, APIError> {
        await submit(mailFrom: mailFrom, recipients: recipients, message: message, keyID: keyID, clientAddress: clientAddress)
    }
}
