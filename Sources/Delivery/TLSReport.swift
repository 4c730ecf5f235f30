import Foundation
import MailStore

/// The aggregate report of RFC 8460 §4.4, one per policy domain and UTC day, as JSON:
///
/// ```json
/// {"organization-name": "mx.example.com",
///  "date-range": {"start-datetime": "2026-12-05T00:00:00Z", "end-datetime": "2026-12-05T23:59:59Z"},
///  "contact-info": "postmaster@example.com", "report-id": "2026-12-05.example.net@mx.example.com",
///  "policies": [{"policy": {"policy-type": "sts", "policy-string": ["version: STSv1", …],
///                           "policy-domain": "example.net", "mx-host": ["mx.example.net"]},
///                "summary": {"total-successful-session-count": 12, "total-failure-session-count": 1},
///                "failure-details": [{"result-type": "starttls-not-supported", "sending-mta-ip": "192.0.2.1",
///                                     "receiving-mx-hostname": "mx.example.net", "receiving-ip": "198.51.100.7",
///                                     "failed-session-count": 1}]}]}
/// ```
/// Pure: built from the stored counters of one day and domain.
public struct TLSReport: Codable, Sendable, Hashable {
    public struct DateRange: Codable, Sendable, Hashable {
        public var start: String
        public var end: String
        enum CodingKeys: String, CodingKey {
            case start = "start-datetime", end = "end-datetime"
        }
    }

    public struct Policy: Codable, Sendable, Hashable {
        public var type: String
        public var strings: [String]?
        public var domain: String
        public var mxHosts: [String]?
        enum CodingKeys: String, CodingKey {
            case type = "policy-type", strings = "policy-string", domain = "policy-domain", mxHosts = "mx-host"
        }
    }

    public struct Summary: Codable, Sendable, Hashable {
        public var successful: Int
        public var failed: Int
        enum CodingKeys: String, CodingKey {
            case successful = "total-successful-session-count", failed = "total-failure-session-count"
        }
    }

    public struct FailureDetail: Codable, Sendable, Hashable {
        public var resultType: String
        public var sendingIP: String?
        public var receivingMX: String?
        public var receivingIP: String?
        public var count: Int
        enum CodingKeys: String, CodingKey {
            case resultType = "result-type", sendingIP = "sending-mta-ip", receivingMX = "receiving-mx-hostname"
            case receivingIP = "receiving-ip", count = "failed-session-count"
        }
    }

    public struct PolicyResult: Codable, Sendable, Hashable {
        public var policy: Policy
        public var summary: Summary
        public var failureDetails: [FailureDetail]
        enum CodingKeys: String, CodingKey {
            case policy, summary, failureDetails = "failure-details"
        }
    }

    public var organization: String
    public var dateRange: DateRange
    public var contact: String
    public var reportID: String
    public var policies: [PolicyResult]

    enum CodingKeys: String, CodingKey {
        case organization = "organization-name", dateRange = "date-range", contact = "contact-info"
        case reportID = "report-id", policies
    }

    /// The report of `rows` (one day, one policy domain): one entry per distinct policy, its failures
    /// grouped by (result type, sending IP, MX host, MX IP). `end` is the end of the day, or the moment of
    /// an early report (`apus tls-report send --now`).
    public init(rows: [TLSResultRow], organization: String, contact: String, reportID: String, day: String,
                end: Date? = nil) {
        self.organization = organization
        self.contact = contact
        self.reportID = reportID
        dateRange = DateRange(start: "\(day)T00:00:00Z", end: end.map(Self.timestamp) ?? "\(day)T23:59:59Z")
        struct PolicyKey: Hashable {
            var type: String
            var strings: [String]
            var mx: [String]
        }
        var order: [PolicyKey] = []
        var groups: [PolicyKey: [TLSResultRow]] = [:]
        for row in rows {
            let key = PolicyKey(type: row.policyType, strings: row.policyStrings, mx: row.mxHosts)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(row)
        }
        policies = order.map { key in
            let members = groups[key]!
            var details: [FailureDetail] = []
            for row in members where !row.isSuccess {
                if let i = details.firstIndex(where: {
                    $0.resultType == row.resultType && $0.sendingIP == Self.optional(row.sendingIP)
                        && $0.receivingMX == Self.optional(row.receivingMX) && $0.receivingIP == Self.optional(row.receivingIP)
                }) {
                    details[i].count += row.count
                } else {
                    details.append(FailureDetail(resultType: row.resultType, sendingIP: Self.optional(row.sendingIP),
                                                 receivingMX: Self.optional(row.receivingMX),
                                                 receivingIP: Self.optional(row.receivingIP), count: row.count))
                }
            }
            let ok = members.filter(\.isSuccess).reduce(0) { $0 + $1.count }
            let failed = members.filter { !$0.isSuccess }.reduce(0) { $0 + $1.count }
            return PolicyResult(policy: Policy(type: key.type, strings: key.strings.isEmpty ? nil : key.strings,
                                               domain: members[0].policyDomain, mxHosts: key.mx.isEmpty ? nil : key.mx),
                                summary: Summary(successful: ok, failed: failed), failureDetails: details)
        }
    }

    /// The JSON (keys sorted, so the same counts give the same bytes).
    public var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    static func optional(_ s: String) -> String? { s.isEmpty ? nil : s }

    /// RFC 3339 UTC, whole seconds.
    public static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
