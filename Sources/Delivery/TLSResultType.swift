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

/// The policy a delivery ran under, as TLS-RPT reports it (RFC 8460 §4.4 `policy`).
public struct TLSReportPolicy: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case sts
        /// DANE (RFC 7672): the DANE work sets this with the TLSA records as `strings`.
        case tlsa
        case noPolicyFound = "no-policy-found"
    }

    public var kind: Kind
    /// `policy-string`: the MTA-STS policy's lines, or the TLSA records.
    public var strings: [String]
    /// `mx-host`: the MTA-STS `mx` patterns.
    public var mxHosts: [String]
    /// A policy failure that applies to every session of this delivery (`sts-policy-fetch-error`, …).
    public var failure: TLSResultType?

    public init(kind: Kind, strings: [String] = [], mxHosts: [String] = [], failure: TLSResultType? = nil) {
        self.kind = kind
        self.strings = strings
        self.mxHosts = mxHosts
        self.failure = failure
    }

    public static let noPolicy = TLSReportPolicy(kind: .noPolicyFound)

    /// From an MTA-STS lookup. A fetch error or an invalid policy is reported with policy type `sts` and no
    /// policy strings (§4.3.2: the policy could not be obtained).
    public init(_ lookup: MTASTSLookup?) {
        switch lookup {
        case .policy(let policy)?: self.init(kind: .sts, strings: policy.lines, mxHosts: policy.mx)
        case .fetchFailed?: self.init(kind: .sts, failure: .stsPolicyFetchError)
        case .invalid?: self.init(kind: .sts, failure: .stsPolicyInvalid)
        case .noPolicy?, nil: self = .noPolicy
        }
    }
}
