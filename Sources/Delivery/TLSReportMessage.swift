import Foundation
import MailMessage

/// The mail that carries a TLS-RPT report (RFC 8460 §5.3):
///
/// ```
/// From: TLS reporting <noreply-tlsrpt@mx.example.com>
/// To: <tlsrpt@example.net>
/// Subject: Report Domain: example.net Submitter: mx.example.com Report-ID: <…>
/// TLS-Report-Domain: example.net
/// TLS-Report-Submitter: mx.example.com
/// Content-Type: multipart/report; report-type="tlsrpt"; boundary="…"
///
/// --…  text/plain                      one sentence on what this is
/// --…  application/tlsrpt+gzip         the JSON, gzip'd, base64, as the attachment
///      filename="mx.example.com!example.net!<begin>!<end>!<unique-id>.json.gz"   (§5.1)
/// ```
/// `TLS-Required: No` (RFC 8689 §3) goes with it: §5.3 asks that reports be delivered despite TLS failures.
public struct TLSReportMessage: Sendable {
    public var report: TLSReport
    public var policyDomain: String
    /// Our host name: the submitter, and the From domain.
    public var submitter: String
    public var from: String
    public var to: String
    public var begin: Date
    public var end: Date
    public var date: Date
    /// Unique per report: in the file name, the Message-ID and the boundary.
    public var uniqueID: String

    public init(report: TLSReport, policyDomain: String, submitter: String, from: String, to: String,
                begin: Date, end: Date, date: Date, uniqueID: String) {
        self.report = report
        self.policyDomain = policyDomain
        self.submitter = submitter
        self.from = from
        self.to = to
        self.begin = begin
        self.end = end
        self.date = date
        self.uniqueID = uniqueID
    }

    /// §5.1: `sender!policy-domain!begin-timestamp!end-timestamp!unique-id.json.gz`, timestamps in seconds.
    public var filename: String {
        "\(submitter)!\(policyDomain)!\(Int(begin.timeIntervalSince1970))!\(Int(end.timeIntervalSince1970))!\(uniqueID).json.gz"
    }

    public var gzip: [UInt8] { Gzip.wrap(report.json) }

    /// The message, CRLF line endings.
    public var rendered: [UInt8] {
        let boundary = "tlsrpt-\(uniqueID)"
        var out = ""
        out += "From: TLS reporting <\(from)>\r\n"
        out += "To: <\(to)>\r\n"
        out += "Date: \(RFC5322Date.format(date))\r\n"
        out += "Subject: Report Domain: \(policyDomain) Submitter: \(submitter) Report-ID: <\(report.reportID)>\r\n"
        out += "Message-ID: <tlsrpt.\(uniqueID)@\(submitter)>\r\n"
        out += "TLS-Report-Domain: \(policyDomain)\r\n"
        out += "TLS-Report-Submitter: \(submitter)\r\n"
        out += "TLS-Required: No\r\n"
        out += "Auto-Submitted: auto-generated\r\n"
        out += "MIME-Version: 1.0\r\n"
        out += "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"\(boundary)\"\r\n"
        out += "\r\n"
        out += "This is a multipart message in MIME format.\r\n\r\n"
        out += "--\(boundary)\r\n"
        out += "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        out += "This is an aggregate TLS report (RFC 8460) from \(submitter) about mail to \(policyDomain)\r\n"
        out += "for \(TLSReport.timestamp(begin)) to \(TLSReport.timestamp(end)).\r\n\r\n"
        out += "--\(boundary)\r\n"
        out += "Content-Type: application/tlsrpt+gzip\r\n"
        out += "Content-Transfer-Encoding: base64\r\n"
        out += "Content-Disposition: attachment;\r\n\tfilename=\"\(filename)\"\r\n\r\n"
        let encoded = Data(gzip).base64EncodedString()
        var i = encoded.startIndex
        while i < encoded.endIndex {
            let j = encoded.index(i, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            out += encoded[i..<j] + "\r\n"
            i = j
        }
        out += "\r\n--\(boundary)--\r\n"
        return Array(out.utf8)
    }
}
