// DKIM: DomainKeys Identified Mail signing and verification (RFC 6376, RFC 8301, RFC 8463).
//
// A DKIM signature is a header field, `DKIM-Signature:`, that holds a tag list (`v=1; a=rsa-sha256; d=…`).
// The signer hashes a canonical form of the body (`bh=`) and of a chosen list of header fields (`h=`),
// then signs that header hash with a private key; the verifier fetches the public key from DNS at
// `<selector>._domainkey.<domain>` (a TXT record that is itself a tag list: `v=DKIM1; k=rsa; p=…`)
// and checks both hashes.
//
// Files in this module:
// - `DKIMTagList.swift`        the tag=value list grammar shared by signatures and key records (§3.2)
// - `DKIMSignature.swift`      the DKIM-Signature field: parse and validate (§3.5); DKIMSigner writes it
// - `DKIMKeyRecord.swift`      the DNS key record (§3.6.1)
// - `DKIMMessage.swift`        byte-level split of a message into header fields and body
// - `DKIMCanonicalization.swift` simple/relaxed for header and body (§3.4)
// - `DKIMHeaderHash.swift`     which header fields a signature covers, and how (§5.4.2, §3.7)
// - `DKIMSigningKey.swift`, `DKIMSigner.swift`, `DKIMKeyStore.swift`   outbound
// - `DKIMPublicKey.swift`, `DKIMVerifier.swift`, `DKIMKeyLookup.swift`, `DKIMResult.swift`  inbound
//
// Everything except `DKIMKeyStore` is pure: no sockets, files or clocks. Time comes in as a UNIX timestamp,
// DNS as a `DKIMKeyLookup` closure.

/// Every limit of this module, in one place.
public enum DKIMLimits {
    /// Signatures evaluated per message; the rest are reported as `policy` without any DNS query.
    public static let maxSignaturesEvaluated = 5
    /// RFC 8301 §3.2: verifiers MUST NOT consider signatures with RSA keys under 1024 bits valid.
    public static let minimumVerifyRSABits = 1024
    /// RFC 8301 §3.2: signers MUST use RSA keys of at least 1024 bits. Keys migrated from OpenDKIM are often
    /// 1024-bit and already published, so they sign; the server logs a warning and `apus check` advises rotation.
    public static let minimumSigningRSABits = 1024
    /// RFC 8301 §3.2: signers SHOULD use at least 2048 bits; smaller keys are flagged as weak.
    public static let recommendedSigningRSABits = 2048
    /// Longest DKIM-Signature or key record we parse (bytes); real ones are < 2 KB.
    public static let maxTagListBytes = 16 * 1024
    /// RFC 6376 §3.5: t= and x= are at most 12 digits; l= we cap at 18 digits to stay inside Int64.
    public static let maxTimestampDigits = 12
    public static let maxLengthDigits = 18
    /// Header lines we emit stay below this many characters (RFC 5322 §2.1.1 recommends 78).
    public static let foldColumn = 76
    /// RFC 1035 §3.3: a TXT character-string holds at most 255 bytes.
    public static let maxTXTStringBytes = 255
}
