import DNSCore

/// The result of check_host (RFC 7208 §2.6, §8).
public enum SPFResult: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The client is authorized.
    case pass
    /// The client is not authorized (`-`); receivers may reject (we answer 550 5.7.23 by default).
    case fail
    /// Probably not authorized (`~`); accept and mark.
    case softfail
    /// The domain makes no statement (`?`, or no mechanism matched).
    case neutral
    /// No SPF record, or the domain is not a valid name.
    case none
    /// The record could not be interpreted (syntax error, limits exceeded, include of a domain without
    /// a record): needs the domain owner's attention.
    case permerror
    /// A transient DNS error (timeout, SERVFAIL): try again later.
    case temperror

    public var description: String { rawValue }
}

/// Which identity was checked (RFC 7208 §2.3, §2.4), for Received-SPF `identity=`.
public enum SPFIdentity: String, Sendable, Hashable {
    case mailfrom
    case helo
}

/// Everything a check found: the result, the explanation for a fail, and the inputs, so that the
/// Received-SPF and Authentication-Results headers can be written from it.
public struct SPFCheckResult: Sendable, Hashable {
    public var result: SPFResult
    /// The expanded `exp=` text (or the configured default) for `fail`; nil otherwise (RFC 7208 §6.2).
    public var explanation: String?
    /// The directive that matched, e.g. `-all` or `include:_spf.example.net` (nil if none did).
    public var mechanism: String?
    /// What went wrong, for `permerror` and `temperror` (Received-SPF `problem=`).
    public var problem: String?
    /// The client address as checked (IPv4-mapped IPv6 shown as IPv4).
    public var ip: IPAddress
    /// The domain check_host started with.
    public var domain: String
    /// The sender: MAIL FROM, or `postmaster@<helo>` when MAIL FROM was empty or for a HELO check.
    public var sender: String
    /// The HELO/EHLO name given.
    public var helo: String
    public var identity: SPFIdentity

    public init(result: SPFResult, explanation: String? = nil, mechanism: String? = nil, problem: String? = nil,
                ip: IPAddress, domain: String, sender: String, helo: String, identity: SPFIdentity) {
        self.result = result; self.explanation = explanation; self.mechanism = mechanism
        self.problem = problem; self.ip = ip; self.domain = domain; self.sender = sender; self.helo = helo
        self.identity = identity
    }
}
