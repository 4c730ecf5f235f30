/// Identifier alignment (RFC 7489 §3.1): does an authenticated domain (SPF's MAIL FROM or HELO domain, a
/// DKIM `d=`) align with the RFC 5322 From domain?
/// - strict: the two names are equal (case-insensitively, U-labels compared as A-labels);
/// - relaxed: their organizational domains (§3.2) are equal, so `news.example.com` aligns with
///   `example.com`, but a public suffix such as `com` aligns only with itself.
/// An invalid name aligns with nothing.
public struct DMARCAlignment: Sendable {
    public var publicSuffixList: PublicSuffixList

    public init(publicSuffixList: PublicSuffixList = .bundled) {
        self.publicSuffixList = publicSuffixList
    }

    public func aligned(_ authenticated: String, with fromDomain: String, mode: DMARCAlignmentMode) -> Bool {
        switch mode {
        case .strict:
            guard let a = PublicSuffixList.normalized(authenticated), let b = PublicSuffixList.normalized(fromDomain)
            else { return false }
            return a == b
        case .relaxed:
            guard let a = publicSuffixList.organizationalDomain(of: authenticated),
                  let b = publicSuffixList.organizationalDomain(of: fromDomain) else { return false }
            return a == b
        }
    }
}
