// RFC 6376 §3.6.1, the key record published as TXT at `<selector>._domainkey.<domain>`:
//   v=DKIM1 (optional; if present it MUST be the first tag)   h= acceptable hashes (default: all)
//   k= key type (default rsa; RFC 8463 adds ed25519)           n= notes (ignored)
//   p= base64 public key, REQUIRED; empty means revoked        s= service types (default *; we need * or email)
//   t= flags: y = testing, s = i= domain must equal d= exactly
// Unknown tags are ignored. Unknown k=, h= and s= values parse; the verifier decides what they mean.

/// Why a key record is unusable (the verifier reports `permerror`).
public enum DKIMKeyRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    case tagList(DKIMTagListError)
    case invalidVersion(String)
    case missingPublicKey
    case invalidBase64

    public var description: String {
        switch self {
        case .tagList(let e): return "malformed key record: \(e)"
        case .invalidVersion(let v): return "key record has v=\(v), not DKIM1 as its first tag"
        case .missingPublicKey: return "key record lacks p="
        case .invalidBase64: return "key record p= is not base64"
        }
    }
}

public struct DKIMKeyRecord: Sendable, Hashable {
    public var keyType: String                  // k=, lowercased
    public var hashAlgorithms: [String]?        // h=, lowercased; nil = any
    public var publicKey: [UInt8]               // p=; empty = revoked
    public var serviceTypes: [String]           // s=, lowercased
    public var flags: [String]                  // t=

    public var isRevoked: Bool { publicKey.isEmpty }
    public var isTesting: Bool { flags.contains("y") }
    public var isStrictIdentity: Bool { flags.contains("s") }
    public var allowsEmail: Bool { serviceTypes.contains("*") || serviceTypes.contains("email") }
    public var allowsSHA256: Bool { hashAlgorithms.map { $0.contains("sha256") } ?? true }

    public init(keyType: String = "rsa", hashAlgorithms: [String]? = nil, publicKey: [UInt8],
                serviceTypes: [String] = ["*"], flags: [String] = []) {
        self.keyType = keyType
        self.hashAlgorithms = hashAlgorithms
        self.publicKey = publicKey
        self.serviceTypes = serviceTypes
        self.flags = flags
    }

    public static func parse(_ txt: String) throws(DKIMKeyRecordError) -> DKIMKeyRecord {
        let list: DKIMTagList
        do { list = try DKIMTagList.parse(txt) } catch { throw .tagList(error) }
        if let v = list["v"] {
            guard v == "DKIM1", list.tags.first?.name == "v" else { throw .invalidVersion(v) }
        }
        guard let p = list["p"] else { throw .missingPublicKey }
        guard let key = decodeBase64(p) else { throw .invalidBase64 }
        func colonList(_ s: String) -> [String] {
            removingWhitespace(s).lowercased().split(separator: ":").map(String.init)
        }
        return DKIMKeyRecord(
            keyType: list["k"].map { removingWhitespace($0).lowercased() } ?? "rsa",
            hashAlgorithms: list["h"].map(colonList),
            publicKey: key,
            serviceTypes: list["s"].map(colonList) ?? ["*"],
            flags: list["t"].map(colonList) ?? [])
    }
}
