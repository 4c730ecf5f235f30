/// Why a TXT string is not a usable DMARC record. `notDMARC` means the string does not start with
/// `v=DMARC1` and is simply skipped during discovery (RFC 7489 §6.6.3 steps 2 and 4); every other case is a
/// record that claims to be DMARC but is malformed, which discovery reports as `permerror`.
public enum DMARCRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Does not start with `v=DMARC1` (then end, whitespace or `;`).
    case notDMARC
    /// `v=DMARC1` followed by something other than `;` (e.g. `v=DMARC1 p=none`).
    case missingSeparatorAfterVersion
    /// Longer than `DMARCLimits.maxRecordLength`.
    case tooLong(Int)
    /// Two `;` with nothing between them.
    case emptyTag(position: Int)
    /// A tag that is not `name=value` with a name of letters, digits and `_`.
    case malformedTag(String)
    /// The same tag twice.
    case duplicateTag(String)
    /// `p` present but not the tag right after `v` (RFC 7489 §6.4 ABNF).
    case policyNotFirst
    /// No valid `p` (or an invalid `sp`), and no valid `rua` to fall back on (§6.6.3 step 6).
    case missingPolicy
    /// `p` or `sp` with a value other than none, quarantine, reject, and no `rua` to fall back on.
    case invalidPolicy(tag: String, value: String)
    /// A known tag with a value its grammar does not allow.
    case invalidValue(tag: String, value: String)

    public var description: String {
        switch self {
        case .notDMARC: return "not a DMARC record (no v=DMARC1 at the start)"
        case .missingSeparatorAfterVersion: return "v=DMARC1 must be followed by ;"
        case .tooLong(let n): return "record of \(n) characters is too long"
        case .emptyTag(let i): return "empty tag at position \(i)"
        case .malformedTag(let t): return "malformed tag \"\(t)\""
        case .duplicateTag(let t): return "duplicate tag \(t)"
        case .policyNotFirst: return "p= must directly follow v=DMARC1"
        case .missingPolicy: return "no p= tag"
        case .invalidPolicy(let t, let v): return "invalid \(t)=\(v)"
        case .invalidValue(let t, let v): return "invalid \(t)=\(v)"
        }
    }
}
