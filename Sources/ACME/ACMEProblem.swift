import Foundation

/// An RFC 7807 problem document from the CA (RFC 8555 §6.7), e.g.
/// `{"type":"urn:ietf:params:acme:error:badNonce","detail":"JWS has an invalid anti-replay nonce"}`.
public struct ACMEProblem: Error, Sendable, Decodable, CustomStringConvertible {
    public var type: String
    public var detail: String?
    public var status: Int?
    public var subproblems: [ACMEProblem]?

    public init(type: String, detail: String?, status: Int? = nil) {
        self.type = type
        self.detail = detail
        self.status = status
        self.subproblems = nil
    }

    /// The part after `urn:ietf:params:acme:error:`: `badNonce`, `rateLimited`, `unauthorized`, …
    public var shortType: String {
        let prefix = "urn:ietf:params:acme:error:"
        return type.hasPrefix(prefix) ? String(type.dropFirst(prefix.count)) : type
    }

    public var isBadNonce: Bool { shortType == "badNonce" }

    public var description: String {
        var text = shortType + (detail.map { ": \($0)" } ?? "")
        for sub in subproblems ?? [] { text += "; \(sub)" }
        return text
    }
}

/// Why getting a certificate failed, as one line for the log and for `apus cert renew`.
public struct ACMEError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
