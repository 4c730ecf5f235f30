/// DNSCore: the pure half of Apus's DNS stub resolver (DESIGN.md §2, layer 0).
///
/// DNS (RFC 1035) is a request/response protocol: a client sends a *message* holding one *question*
/// (name, type, class) and a server answers with a message whose header carries an *rcode* and three
/// sections of *resource records* (answer, authority, additional). Names travel as length-prefixed labels
/// and may be *compressed*: a two-byte pointer (top bits `11`) refers back to a name earlier in the message
/// (RFC 1035 §4.1.4). EDNS0 (RFC 6891) adds an OPT pseudo-record that advertises a larger UDP payload.
///
/// This module holds:
/// - the wire format: `DNSMessage` encode/decode, with every malformation reported as a `DNSDecodeError`;
/// - names (`DNSName`, case-insensitive; IDNA U-labels become A-labels with `Punycode`, RFC 3492/5891);
/// - record data for A, AAAA, MX, TXT, PTR, CNAME, NS, SOA, TLSA (others kept as raw bytes);
/// - the `DNSResolving` protocol that every DNS consumer (delivery, SPF, DKIM, DMARC, `apus check`) takes,
///   whose `DNSLookupResult` keeps NXDOMAIN, no-data, SERVFAIL, REFUSED and timeout distinct — a mail server
///   bounces on NXDOMAIN and retries on SERVFAIL, so they must never be folded together;
/// - `StaticResolver`, a fake for tests of other modules.
///
/// No sockets, files or clocks here; `DNSResolver` is the NIO shell.
public enum DNSCore {
    /// EDNS0 UDP payload size we advertise (RFC 6891 §6.2.5; the 2020 DNS flag day value).
    public static let ednsUDPPayloadSize: UInt16 = 1232
    /// The largest name on the wire, length octets included (RFC 1035 §3.1).
    public static let maxNameLength = 255
    /// The largest label (RFC 1035 §2.3.4).
    public static let maxLabelLength = 63
}
