/// What looking up a domain's MTA-STS policy found (`MTASTSPolicyStore.lookup`).
public enum MTASTSLookup: Sendable, Hashable {
    /// A policy in `enforce` or `testing` mode applies.
    case policy(MTASTSPolicy)
    /// No policy (no `_mta-sts` record, or `mode: none`).
    case noPolicy
    /// A `_mta-sts` record exists but the policy could not be fetched, and nothing usable is cached.
    case fetchFailed(String)
    /// The policy was fetched but does not parse, and nothing usable is cached.
    case invalid(String)

    init(_ policy: MTASTSPolicy?) {
        self = policy.map { .policy($0) } ?? .noPolicy
    }

    public var policy: MTASTSPolicy? {
        if case .policy(let policy) = self { return policy }
        return nil
    }
}

extension MTASTSPolicy {
    /// The policy as the lines of its text (RFC 8460 §4.4 `policy-string`), in the order of RFC 8461 §3.2.
    public var lines: [String] {
        ["version: STSv1", "mode: \(mode.rawValue)"] + mx.map { "mx: \($0)" } + ["max_age: \(maxAge)"]
    }
}
