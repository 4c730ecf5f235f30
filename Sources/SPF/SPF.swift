/// SPF: the Sender Policy Framework (RFC 7208) as pure functions over `DNSResolving` (DESIGN.md §2).
///
/// A domain publishes, in a TXT record starting `v=spf1`, which hosts may send mail that uses the domain
/// in the SMTP envelope (MAIL FROM, or HELO when the sender is empty). The record is a list of *terms*
/// read left to right: *directives* (`[qualifier] mechanism`, e.g. `-all`, `ip4:192.0.2.0/24`,
/// `include:_spf.example.net`, `mx`, `a:%{d}`) and *modifiers* (`redirect=`, `exp=`, or unknown names that
/// are ignored). The first mechanism that matches the client's IP address gives the result through its
/// qualifier (`+` pass, `-` fail, `~` softfail, `?` neutral). Domain arguments may contain *macros*
/// (`%{i}`, `%{l}`, `%{d2}`, …, RFC 7208 §7) expanded from the envelope.
///
/// This module holds:
/// - `SPFRecord.parse`, the record grammar of RFC 7208 §4.6 / §12 with a typed `SPFParseError`;
/// - `SPFMacroString`, the macro language of §7 (parse, re-serialise, expand);
/// - `SPFVerifier.checkHost`, the `check_host()` function of §4 with the limits of §4.6.4
///   (`SPFLimits`), returning an `SPFCheckResult` that renders the `Received-SPF` header field (§9.1)
///   and the `spf=` part of an Authentication-Results header (RFC 8601 §2.7.2).
///
/// No sockets, files or clocks: DNS comes through `any DNSResolving`; the time for the `%{t}` macro and
/// the receiver name for `%{r}` come in `SPFOptions`. An overall time limit (RFC 7208 §4.6.4 suggests at
/// least 20 seconds) is the caller's: cancel the task, or give the resolver a timeout.
public enum SPFLimits {
    /// RFC 7208 §4.6.4: at most 10 terms that cause DNS queries (include, a, mx, ptr, exists, redirect)
    /// per check, includes and redirects counted together; the 11th gives `permerror`.
    public static let dnsMechanisms = 10
    /// RFC 7208 §4.6.4: at most 2 "void lookups" (NXDOMAIN or no answer) per check; the 3rd gives
    /// `permerror`.
    public static let voidLookups = 2
    /// RFC 7208 §4.6.4: an `mx` mechanism whose MX RRset has more than 10 names gives `permerror`.
    public static let mxNames = 10
    /// RFC 7208 §4.6.4: a `ptr` mechanism or `%{p}` macro looks at the first 10 PTR names only.
    public static let ptrNames = 10
    /// RFC 7208 §7.3: an expanded domain name longer than 253 characters loses labels on the left.
    public static let domainNameLength = 253
    /// RFC 7208 §7.3: the largest transformer digit that still changes anything (a name has at most 127
    /// labels); larger values are clamped so that they cannot overflow.
    public static let macroDigits = 128
}
