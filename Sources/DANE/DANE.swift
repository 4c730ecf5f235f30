/// DANE: authenticating an SMTP server with TLSA records (RFC 6698, RFC 7671, and RFC 7672 for SMTP).
///
/// A domain that signs its zone with DNSSEC can publish, at `_25._tcp.<mx host>`, TLSA records saying which
/// certificate or key its MX host presents. A record has four fields:
/// - usage: 3 DANE-EE (the server's own certificate or key; names and dates are ignored, RFC 7672 §3.1.1),
///   2 DANE-TA (a trust anchor in the chain the server sends; the chain up to it and the MX host name are
///   checked, §3.1.2 and §3.2.2), 0 PKIX-TA and 1 PKIX-EE (unusable for SMTP, §3.1.3);
/// - selector: 0 the whole certificate (DER), 1 its SubjectPublicKeyInfo (DER);
/// - matching type: 0 the bytes themselves, 1 their SHA-256, 2 their SHA-512;
/// - the association data to compare with.
///
/// This module is the pure part: parse the records, and decide whether a presented chain (DER certificates,
/// leaf first) matches them. Which records apply and when (DNSSEC, MX and address lookups) is the remote
/// courier's business (Delivery, `RemoteCourier+DANE.swift`).
public enum DANE {}
