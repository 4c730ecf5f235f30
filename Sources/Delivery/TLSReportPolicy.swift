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
