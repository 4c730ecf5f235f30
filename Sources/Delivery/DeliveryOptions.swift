import NIOCore

/// What one message asks of its remote delivery, beyond the envelope.
///
/// - `requireTLS`: the message was accepted with `MAIL FROM:<…> REQUIRETLS` (RFC 8689 §4.2.1): every MX
///   host must offer STARTTLS, present a certificate verified for its name, and advertise REQUIRETLS after
///   TLS; MAIL carries `REQUIRETLS` on. A host that falls short is skipped; when no host qualifies the
///   recipients fail for good with `5.7.30` (§5), they are not retried forever.
/// - `tlsOptional`: the message carries `TLS-Required: No` (RFC 8689 §4.2.2) and no REQUIRETLS: MTA-STS,
///   DANE and our own downgrade protection do not stop it; STARTTLS is still used whenever offered.
/// - `tlsReport`: the message is a TLS-RPT report (it carries `TLS-Report-Domain`). RFC 8460 §5.3: it is
///   delivered despite TLS failures and its session is left out of the next report.
public struct DeliveryOptions: Sendable, Hashable {
    public var requireTLS: Bool
    public var tlsOptional: Bool
    public var tlsReport: Bool
    /// The TLS-RPT policy of this delivery, set by the remote courier; nil counts nothing.
    var reportPolicy: TLSReportPolicy?

    public init(requireTLS: Bool = false, tlsOptional: Bool = false, tlsReport: Bool = false) {
        self.requireTLS = requireTLS
        self.tlsOptional = tlsOptional && !requireTLS   // §4.1: REQUIRETLS wins over the header field
        self.tlsReport = tlsReport
    }

    /// The options of a queued message from its envelope flag and its header fields.
    public init(requireTLS: Bool, message: ByteBuffer) {
        let fields = TLSHeaderFields(message)
        self.init(requireTLS: requireTLS, tlsOptional: fields.tlsRequiredNo || fields.isTLSReport,
                  tlsReport: fields.isTLSReport)
    }
}
