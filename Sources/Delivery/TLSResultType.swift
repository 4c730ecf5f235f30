/// The result types of RFC 8460 §4.3, for TLS-RPT's `failure-details`.
public enum TLSResultType: String, Sendable, Hashable, CaseIterable, Codable {
    // §4.3.1 negotiation failures
    case starttlsNotSupported = "starttls-not-supported"
    case certificateHostMismatch = "certificate-host-mismatch"
    case certificateExpired = "certificate-expired"
    case certificateNotTrusted = "certificate-not-trusted"
    case validationFailure = "validation-failure"
    // §4.3.2 policy failures: MTA-STS
    case stsPolicyFetchError = "sts-policy-fetch-error"
    case stsPolicyInvalid = "sts-policy-invalid"
    case stsWebPKIInvalid = "sts-webpki-invalid"
    // §4.3.2 policy failures: DANE (for the DANE courier, when it records)
    case tlsaInvalid = "tlsa-invalid"
    case dnssecInvalid = "dnssec-invalid"
    case daneRequired = "dane-required"

    /// The result type of a failed TLS handshake with certificate verification on, from the error's
    /// text (NIOSSL reports BoringSSL's verify errors and its own host name check as text).
    public static func classify(handshakeError text: String) -> TLSResultType {
        let t = text.lowercased()
        if t.contains("hostname") || t.contains("host name") || t.contains("failedtovalidatehostname") {
            return .certificateHostMismatch
        }
        if t.contains("expired") || t.contains("not yet valid") { return .certificateExpired }
        if t.contains("certificate_verify_failed") || t.contains("self signed") || t.contains("self-signed")
            || t.contains("unable to get local issuer") || t.contains("untrusted") || t.contains("unknown ca") {
            return .certificateNotTrusted
        }
        return .validationFailure
    }
}
