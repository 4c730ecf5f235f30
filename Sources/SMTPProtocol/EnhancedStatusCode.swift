/// An enhanced mail system status code, RFC 3463: `class.subject.detail`, e.g. `5.1.1`.
///
/// The class (2 success, 4 persistent transient failure, 5 permanent failure) must agree with the
/// first digit of the SMTP reply code that carries it (RFC 2034 §4).
public struct EnhancedStatusCode: Sendable, Hashable, CustomStringConvertible {
    public let klass: Int
    public let subject: Int
    public let detail: Int

    public init(_ klass: Int, _ subject: Int, _ detail: Int) {
        self.klass = klass
        self.subject = subject
        self.detail = detail
    }

    public var description: String { "\(klass).\(subject).\(detail)" }

    /// Parses `X.Y.Z` (RFC 3463 §2: class 2|4|5, subject and detail 0–999).
    public init?(parsing text: Substring) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let k = Int(parts[0]), [2, 4, 5].contains(k),
              let s = Int(parts[1]), (0...999).contains(s),
              let d = Int(parts[2]), (0...999).contains(d) else { return nil }
        self.init(k, s, d)
    }
}
