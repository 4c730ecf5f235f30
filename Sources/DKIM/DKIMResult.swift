// RFC 6376 §6.1 / RFC 8601 §2.7.1 result values, with the reason a reader needs.

public enum DKIMStatus: String, Sendable, Hashable, CaseIterable {
    case pass, fail, neutral, policy, temperror, permerror
}

public enum DKIMReason: Sendable, Hashable, CustomStringConvertible {
    case verified
    case bodyHashMismatch
    case signatureMismatch
    case bodyLengthExceedsBody
    case malformedMessage(String)
    case malformedSignature(DKIMSignatureError)
    case signatureExpired(expiration: Int64)
    case keyNotFound
    case keyLookupFailed(String)
    case multipleKeyRecords(Int)
    case malformedKeyRecord(DKIMKeyRecordError)
    case keyRevoked
    case keyServiceNotEmail
    case keyHashExcludesSHA256
    case keyTypeMismatch(keyType: String, algorithm: DKIMAlgorithm)
    case unsupportedKeyType(String)
    case malformedKey
    case keyTooShort(bits: Int)
    case strictIdentityMismatch
    case tooManySignatures(limit: Int)

    public var description: String {
        switch self {
        case .verified: return "signature verified"
        case .bodyHashMismatch: return "body hash mismatch"
        case .signatureMismatch: return "signature mismatch"
        case .bodyLengthExceedsBody: return "l= is longer than the body"
        case .malformedMessage(let why): return why
        case .malformedSignature(let e): return "\(e)"
        case .signatureExpired(let x): return "signature expired (x=\(x))"
        case .keyNotFound: return "key not found"
        case .keyLookupFailed(let why): return "key lookup failed: \(why)"
        case .multipleKeyRecords(let n): return "\(n) key records"
        case .malformedKeyRecord(let e): return "\(e)"
        case .keyRevoked: return "key revoked"
        case .keyServiceNotEmail: return "key s= does not allow email"
        case .keyHashExcludesSHA256: return "key h= excludes sha256"
        case .keyTypeMismatch(let k, let a): return "key k=\(k) does not match a=\(a.rawValue)"
        case .unsupportedKeyType(let k): return "unsupported key type k=\(k)"
        case .malformedKey: return "malformed public key"
        case .keyTooShort(let bits): return "key too short (\(bits) bits)"
        case .strictIdentityMismatch: return "key t=s requires i= domain to equal d="
        case .tooManySignatures(let limit): return "not evaluated: more than \(limit) signatures"
        }
    }
}

/// The outcome for one DKIM-Signature field, in header order (top first).
public struct DKIMVerificationResult: Sendable, Hashable, CustomStringConvertible {
    public var status: DKIMStatus
    public var reason: DKIMReason
    /// d= and s= when the field parsed that far (empty otherwise).
    public var domain: String
    public var selector: String
    public var algorithm: DKIMAlgorithm?
    public var identity: String?
    /// The key record carries t=y: the domain is testing DKIM (RFC 6376 §3.6.1).
    public var testing: Bool

    public init(status: DKIMStatus, reason: DKIMReason, domain: String = "", selector: String = "",
                algorithm: DKIMAlgorithm? = nil, identity: String? = nil, testing: Bool = false) {
        self.status = status
        self.reason = reason
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.identity = identity
        self.testing = testing
    }

    /// `<result> d=<domain> s=<selector> <reason>` — the line `apus dkim verify` prints.
    public var description: String {
        "\(status.rawValue) d=\(domain) s=\(selector) \(reason)" + (testing ? " (key in testing mode t=y)" : "")
    }
}
