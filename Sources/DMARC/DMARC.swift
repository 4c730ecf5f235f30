/// DMARC: Domain-based Message Authentication, Reporting and Conformance (RFC 7489), as pure functions over
/// `DNSResolving` (DESIGN.md §2, layer 0).
///
/// A domain owner publishes a policy as a TXT record at `_dmarc.<domain>` (`v=DMARC1; p=reject; …`). A
/// receiver takes the domain of the message's RFC 5322 `From:` header, finds the policy — at
/// `_dmarc.<from-domain>`, else at `_dmarc.<organizational-domain>` (§6.6.3) — and checks *identifier
/// alignment* (§3.1): the message passes when SPF passed for a domain that aligns with the From domain, or a
/// DKIM signature that verified has a `d=` that aligns with it. "Relaxed" alignment compares organizational
/// domains (the registrable domain under the Public Suffix List, §3.2); "strict" compares the names exactly.
/// A failing message gets the policy `p` (or `sp` for a subdomain), applied to the `pct` percent of them.
///
/// This module holds:
/// - `DMARCRecord` and its parser/encoder (§6.3, §6.4), with `DMARCRecordError`;
/// - `PublicSuffixList`, with the list shipped as Swift source (`PublicSuffixList+Data.swift`, MPL-2.0,
///   refreshed by `scripts/update-psl`), and the organizational-domain rule of §3.2;
/// - `DMARCPolicyDiscovery` (§6.6.3), which keeps "no record" and a temporary DNS failure apart;
/// - `DMARCEvaluator`, which turns the From domain, the SPF result and the DKIM results into a
///   `DMARCResult`: pass | fail | none | temperror | permerror, the policy to apply after `pct`, and the
///   `dmarc=` entry of an Authentication-Results header (RFC 8601, RFC 7489 §11.2).
///
/// SPF and DKIM results come in as plain values (`DMARCAuthStatus` and a domain), so this module depends on
/// neither the SPF nor the DKIM module. No sockets, files or clocks; the `pct` draw is passed in.
public enum DMARCLimits {
    /// Characters of a `_dmarc` TXT record we parse; a longer one is malformed. RFC 7489 sets no limit, but a
    /// real record is well under 1 KB and the parser should not be a way to spend CPU.
    public static let maxRecordLength = 4096
    /// The default aggregate report interval in seconds (`ri`, RFC 7489 §6.3).
    public static let defaultReportInterval: UInt32 = 86400
}
