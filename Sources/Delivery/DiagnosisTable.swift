/// The codes Gmail, Microsoft (Outlook.com, Microsoft 365) and Yahoo publish for refusals of mail that
/// fails their sender requirements, and the generic RFC 3463 classes, each with what to do. Rows are tried
/// in order: provider rows first, generic classes last. A row matches when its enhanced status code (if
/// any) equals the reply's, its marker (if any) appears in the reply text (lower-cased), and, for a
/// provider row, the reply came from that provider. Sources: Gmail's "SMTP errors and codes" and "Email
/// sender guidelines", Microsoft's "NDR 5.7.515/5.7.708" and "Outlook.com postmaster" pages, Yahoo's
/// "SMTP error codes" page; the wording here is our own.
public enum DiagnosisTable {
    public struct Row: Sendable {
        public var provider: String?
        public var status: String?
        public var marker: String?
        public var sentence: @Sendable (Diagnosis.Context) -> String
    }

    static func gmail(_ status: String, _ marker: String? = nil, _ sentence: @escaping @Sendable (Diagnosis.Context) -> String) -> Row {
        Row(provider: "gmail", status: status, marker: marker, sentence: sentence)
    }

    static func any(_ status: String?, marker: String? = nil, provider: String? = nil,
                    _ sentence: @escaping @Sendable (Diagnosis.Context) -> String) -> Row {
        Row(provider: provider, status: status, marker: marker, sentence: sentence)
    }

    static func ptr(_ c: Diagnosis.Context) -> String {
        "Gmail requires a PTR record for the sending IP that points to a name resolving back to it: publish PTR "
            + "\(c.ip) → \(c.hostname) (at the IP's provider) and an A/AAAA record \(c.hostname) → \(c.ip)."
    }

    public static let rows: [Row] = [
        // Gmail (the codes of its sender guidelines; 4.7.x is a rate limit, 5.7.x a block).
        gmail("4.7.23") { ptr($0) },
        gmail("4.7.25") { ptr($0) },
        gmail("5.7.25") { ptr($0) },
        gmail("4.7.26") { _ in "Gmail rate-limits unauthenticated mail: sign it with DKIM (apus dkim keygen; publish apus dkim dns) and publish an SPF record that lists this server." },
        gmail("5.7.26") { _ in "Gmail refused mail that passed neither SPF nor DKIM (or failed the From domain's DMARC policy): check the SPF record and the DKIM key in DNS with apus check DOMAIN." },
        gmail("4.7.27") { c in "Gmail rate-limits mail whose SPF did not pass: add this server (ip4:\(c.ip) or a:\(c.hostname)) to the envelope sender domain's SPF record." },
        gmail("5.7.27") { c in "Gmail refused mail whose SPF did not pass: add this server (ip4:\(c.ip) or a:\(c.hostname)) to the envelope sender domain's SPF record." },
        gmail("4.7.28") { _ in "Gmail sees an unusual rate of mail from this IP or domain and slows it down: send less at once (Apus has halved its pace to Gmail for 10 minutes) and check complaints in Google Postmaster Tools." },
        gmail("5.7.28") { _ in "Gmail blocks this IP or domain for an unusual rate of unsolicited mail: stop bulk sending, clean the list, and check Google Postmaster Tools before sending again." },
        gmail("4.7.29") { _ in "Gmail rate-limits mail not sent over TLS: make sure outgoing connections use STARTTLS (a TLS failure to Gmail shows in the log)." },
        gmail("5.7.29") { _ in "Gmail refused mail not sent over TLS: make sure outgoing connections use STARTTLS (a TLS failure to Gmail shows in the log)." },
        gmail("4.7.30") { _ in "Gmail rate-limits mail without a passing DKIM signature: create a key (apus dkim keygen DOMAIN) and publish its TXT record (apus dkim dns DOMAIN)." },
        gmail("5.7.30") { _ in "Gmail refused mail without a passing DKIM signature: create a key (apus dkim keygen DOMAIN) and publish its TXT record (apus dkim dns DOMAIN)." },
        gmail("4.7.31") { _ in "Gmail wants a DMARC record for the From domain: publish _dmarc.DOMAIN TXT \"v=DMARC1; p=none\" at least (apus dns records DOMAIN prints one)." },
        gmail("4.7.32") { _ in "Gmail rate-limits mail whose From domain is aligned with neither the SPF nor the DKIM domain: sign with a DKIM key of the From domain." },
        gmail("5.7.32") { _ in "Gmail refused mail whose From domain is aligned with neither the SPF nor the DKIM domain: sign with a DKIM key of the From domain." },
        gmail("5.7.1", "unsolicited") { _ in "Gmail blocks this IP for an unusual rate of unsolicited mail: stop bulk sending, remove addresses that never opted in, and watch the spam rate in Google Postmaster Tools." },
        // Microsoft (Outlook.com, Hotmail, Microsoft 365).
        any("5.7.515") { _ in "Outlook.com requires SPF, DKIM and DMARC to pass for the From domain of high-volume mail: publish all three (apus dns records DOMAIN) and check them with apus check DOMAIN." },
        any("5.7.708") { c in "Microsoft refuses mail from \(c.ip) because of the IP's reputation (common for new or cloud IPs): send through a smarthost ([delivery] relay_host) or warm up the IP slowly." },
        any(nil, marker: "s3140") { c in "Microsoft has \(c.ip) on its block list: ask for delisting at https://sender.office.com and meanwhile send through a smarthost ([delivery] relay_host)." },
        any("4.7.650") { _ in "Microsoft rate-limits this IP for its reputation: Apus has halved its pace to Outlook for 10 minutes; keep volumes low while the IP is new." },
        // Yahoo and AOL.
        any(nil, marker: "tss04") { _ in "Yahoo defers mail from this IP for unexpected volume or user complaints: send less at once (Apus has halved its pace to Yahoo for 10 minutes) and register for the Yahoo complaint feedback loop." },
        any(nil, marker: "tss09") { c in "Yahoo refuses all mail from \(c.ip) for now: check the IP on block lists and ask Yahoo sender support for a review; retrying does not help." },
        any(nil, marker: "ph01") { _ in "Yahoo refused the message for policy reasons (its content or authentication): check SPF, DKIM and DMARC with apus check DOMAIN and the message's links and wording." },
        // Our smarthost.
        any("4.7.8", marker: "smarthost") { _ in "The smarthost refused our login: check the user name and password in the file named by [delivery] relay_auth_file (one line: user password); apus check tests the login." },
        any("4.7.0", marker: "does not offer starttls") { _ in "The smarthost offers no STARTTLS on this port: use its submission port with relay_tls = \"starttls\", or port 465 with relay_tls = \"tls\"." },
        // Generic classes (RFC 3463).
        any("5.1.1") { _ in "The recipient's mailbox does not exist: check the address for a typo; further mail to it is pointless." },
        any("5.1.10") { _ in "The recipient's domain accepts no mail (null MX): the address cannot work." },
        any("5.2.2") { _ in "The recipient's mailbox is full: the recipient has to make room; try again later." },
        any("4.2.2") { _ in "The recipient's mailbox is full for now: Apus keeps retrying until give_up_after." },
        any("5.7.1") { _ in "The receiving server refused the message by its policy (sender, content or reputation): read its reply above for the reason, check apus check DOMAIN, and ask the recipient's postmaster if it persists." },
    ]
}
