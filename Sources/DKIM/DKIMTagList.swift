// RFC 6376 §3.2, the tag=value list shared by DKIM-Signature fields and DNS key records:
//
//   tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
//   tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
//   tag-name  =  ALPHA *ALNUMPUNC          ; ALNUMPUNC = ALPHA / DIGIT / "_"
//   tag-value =  [ tval *( 1*(WSP / FWS) tval ) ]
//   tval      =  1*VALCHAR                 ; VALCHAR = %x21-3A / %x3C-7E
//
// "Tags with duplicate names MUST NOT occur within a single tag-list; if a tag name does occur more than
// once, the entire tag-list is invalid." Tag names are case-sensitive. Values keep their inner folding
// whitespace; callers that need it gone (base64, `h=`) strip it.
//
// Leniency, on purpose: an empty tag-spec (`a=1;; b=2`) is skipped, as dkimpy and go-msgauth do, and bytes
// >= 0x80 are allowed in values as long as the whole list is valid UTF-8 (RFC 6376 with EAI, RFC 8616).

/// Why a tag list did not parse.
public enum DKIMTagListError: Error, Sendable, Hashable, CustomStringConvertible {
    case tooLong(Int)
    case invalidUTF8
    case missingEquals(tagSpec: String)
    case invalidTagName(String)
    case duplicateTag(String)
    case invalidCharacter(UInt8)

    public var description: String {
        switch self {
        case .tooLong(let n): return "tag list too long (\(n) bytes)"
        case .invalidUTF8: return "tag list is not valid UTF-8"
        case .missingEquals(let spec): return "tag without \"=\": \"\(spec)\""
        case .invalidTagName(let name): return "invalid tag name \"\(name)\""
        case .duplicateTag(let name): return "duplicate tag \"\(name)\""
        case .invalidCharacter(let byte): return "invalid character 0x\(String(byte, radix: 16)) in tag list"
        }
    }
}

/// One `name=value` pair, value trimmed of surrounding whitespace (inner folding kept).
public struct DKIMTag: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// An ordered, duplicate-free tag list.
public struct DKIMTagList: Sendable, Hashable {
    public private(set) var tags: [DKIMTag]

    public init(tags: [DKIMTag]) { self.tags = tags }

    public subscript(name: String) -> String? {
        tags.first(where: { $0.name == name })?.value
    }

    /// Parses a tag list from the bytes of a header value or TXT record.
    public static func parse<Bytes: Collection>(_ bytes: Bytes) throws(DKIMTagListError) -> DKIMTagList
    where Bytes.Element == UInt8 {
        let input = Array(bytes)
        guard input.count <= DKIMLimits.maxTagListBytes else { throw .tooLong(input.count) }
        for byte in input where !isAllowed(byte) { throw .invalidCharacter(byte) }
        guard String(validating: input, as: UTF8.self) != nil else { throw .invalidUTF8 }

        var tags: [DKIMTag] = []
        var seen = Set<String>()
        for spec in input.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false) {
            let trimmed = trimWhitespace(spec)
            if trimmed.isEmpty { continue }
            guard let eq = trimmed.firstIndex(of: UInt8(ascii: "=")) else {
                throw .missingEquals(tagSpec: String(decoding: trimmed, as: UTF8.self))
            }
            let nameBytes = trimWhitespace(trimmed[trimmed.startIndex..<eq])
            let name = String(decoding: nameBytes, as: UTF8.self)
            guard isTagName(nameBytes) else { throw .invalidTagName(name) }
            let value = String(decoding: trimWhitespace(trimmed[(eq + 1)...]), as: UTF8.self)
            guard seen.insert(name).inserted else { throw .duplicateTag(name) }
            tags.append(DKIMTag(name: name, value: value))
        }
        return DKIMTagList(tags: tags)
    }

    public static func parse(_ string: String) throws(DKIMTagListError) -> DKIMTagList {
        try parse(Array(string.utf8))
    }

    /// `name=value; name=value` — the encoder; parse(encode(x)) == x for lists whose values are valid.
    public var encoded: String {
        tags.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }

    // VALCHAR, FWS (SP, HT, CR, LF), ";" and "=" — and UTF-8 bytes.
    static func isAllowed(_ byte: UInt8) -> Bool {
        byte == 0x09 || byte == 0x0A || byte == 0x0D || (byte >= 0x20 && byte != 0x7F)
    }

    static func isTagName<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        guard let first = bytes.first, isAlpha(first) else { return false }
        return bytes.allSatisfy { isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }
}

func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
func isWSP(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

func trimWhitespace(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var lo = s.startIndex, hi = s.endIndex
    while lo < hi, isWhitespace(s[lo]) { lo += 1 }
    while hi > lo, isWhitespace(s[hi - 1]) { hi -= 1 }
    return s[lo..<hi]
}

/// Removes every FWS byte (base64 values, `h=` entries).
func removingWhitespace(_ s: String) -> String {
    String(decoding: s.utf8.filter { !isWhitespace($0) }, as: UTF8.self)
}
