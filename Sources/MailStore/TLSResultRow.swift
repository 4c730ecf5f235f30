/// One counter (see `TLSReportStore`).
public struct TLSResultRow: Sendable, Hashable, Codable {
    /// UTC day, "2026-12-05".
    public var day: String
    /// The recipient domain the policy belongs to, lower-case.
    public var policyDomain: String
    /// "sts", "tlsa" or "no-policy-found" (RFC 8460 §4.4 `policy-type`).
    public var policyType: String
    /// The policy text, a line each (MTA-STS) or the TLSA records; empty for no-policy-found.
    public var policyStrings: [String]
    /// The MTA-STS `mx` patterns.
    public var mxHosts: [String]
    /// "" for success, else an RFC 8460 §4.3 result type ("starttls-not-supported", …).
    public var resultType: String
    public var sendingIP: String
    public var receivingMX: String
    public var receivingIP: String
    public var count: Int

    public init(day: String, policyDomain: String, policyType: String, policyStrings: [String] = [],
                mxHosts: [String] = [], resultType: String = "", sendingIP: String = "", receivingMX: String = "",
                receivingIP: String = "", count: Int = 1) {
        self.day = day
        self.policyDomain = policyDomain
        self.policyType = policyType
        self.policyStrings = policyStrings
        self.mxHosts = mxHosts
        self.resultType = resultType
        self.sendingIP = sendingIP
        self.receivingMX = receivingMX
        self.receivingIP = receivingIP
        self.count = count
    }

    /// The row without its count: what identifies a counter.
    public var key: TLSResultRow {
        var k = self
        k.count = 0
        return k
    }

    public var isSuccess: Bool { resultType.isEmpty }
}
