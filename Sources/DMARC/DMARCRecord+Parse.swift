// RFC 7489 §6.4 (formal definition), with §6.3 for the meaning and defaults and §6.6.3 step 6 for a record
// without a usable `p`:
//
//   dmarc-record    = dmarc-version dmarc-sep [dmarc-request] [dmarc-sep dmarc-srequest] … [dmarc-sep]
//                     ; components other than dmarc-version and dmarc-request may appear in any order
//   dmarc-version   = "v" *WSP "=" *WSP %x44 %x4d %x41 %x52 %x43 %x31        ; "DMARC1", case-sensitive
//   dmarc-sep       = *WSP %x3b *WSP
//   dmarc-request   = "p" *WSP "=" *WSP ( "none" / "quarantine" / "reject" )
//   dmarc-srequest  = "sp" *WSP "=" *WSP ( "none" / "quarantine" / "reject" )
//   dmarc-auri      = "rua" *WSP "=" *WSP dmarc-uri *(*WSP "," *WSP dmarc-uri)
//   dmarc-furi      = "ruf" *WSP "=" *WSP dmarc-uri *(*WSP "," *WSP dmarc-uri)
//   dmarc-adkim     = "adkim" *WSP "=" *WSP ( "r" / "s" )
//   dmarc-aspf      = "aspf" *WSP "=" *WSP ( "r" / "s" )
//   dmarc-ainterval = "ri" *WSP "=" *WSP 1*DIGIT
//   dmarc-fo        = "fo" *WSP "=" *WSP ( "0" / "1" / "d" / "s" ) *(*WSP ":" *WSP ( "0" / "1" / "d" / "s" ))
//   dmarc-rfmt      = "rf" *WSP "=" *WSP Keyword *(*WSP ":" Keyword)
//   dmarc-percent   = "pct" *WSP "=" *WSP 1*3DIGIT
//   dmarc-uri       = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]
//
// Quoted ABNF strings are case-insensitive (RFC 5234 §2.3), so tag names and keyword values are too; only
// "DMARC1" is not. Unknown tags are ignored (§6.3), but must still look like `name=value`. Leniency is kept
// where it cannot change the policy: whitespace around `=`, `;`, `,` and `:` anywhere.

extension DMARCRecord {
    /// Whether `text` starts like a DMARC record (`v=DMARC1` then end, whitespace or `;`). Discovery keeps
    /// only such TXT records (RFC 7489 §6.6.3 steps 2 and 4); a kept one that then fails to parse is a
    /// permanent error rather than "no record".
    public static func isDMARCRecord(_ text: String) -> Bool {
        guard let rest = afterVersion(Substring(text)) else { return false }
        return rest.isEmpty || rest.first == " " || rest.first == "\t" || rest.first == ";"
    }

    /// What follows `"v" *WSP "=" *WSP "DMARC1"` at the start of `text`, or nil.
    static func afterVersion(_ text: Substring) -> Substring? {
        var rest = text.unicodeScalars[...]
        guard let first = rest.popFirst(), first == "v" || first == "V" else { return nil }
        rest = rest.drop { $0 == " " || $0 == "\t" }
        guard rest.popFirst() == "=" else { return nil }
        rest = rest.drop { $0 == " " || $0 == "\t" }
        guard rest.starts(with: "DMARC1".unicodeScalars) else { return nil }
        return Substring(rest.dropFirst(6))
    }

    /// Parses a record (the TXT record's strings already joined).
    public init(parsing text: String) throws(DMARCRecordError) {
        try self.init(parsing: text, requirePolicy: true)
    }

    /// `requirePolicy: false` is for the report-authorization records of RFC 7489 §7.1, which need
    /// neither `p` nor the `;` after the version (`v=DMARC1` alone is the usual form).
    init(parsing text: String, requirePolicy: Bool) throws(DMARCRecordError) {
        guard Self.isDMARCRecord(text) else { throw .notDMARC }
        guard text.utf8.count <= DMARCLimits.maxRecordLength else { throw .tooLong(text.utf8.count) }
        let segments = Substring(text).splitScalars(";").map { $0.trimmingWSP() }
        guard segments.count >= 2 || !requirePolicy, Self.afterVersion(segments[0])?.isEmpty == true else {
            throw .missingSeparatorAfterVersion
        }

        self.init(policy: .none)
        var seen: Set<String> = ["v"]
        var policy: DMARCPolicy?
        var policyProblem: DMARCRecordError?      // an invalid p/sp, forgiven when rua is valid
        for (index, segment) in segments.enumerated().dropFirst() {
            if segment.isEmpty {
                if index == segments.count - 1 { break }   // the optional final dmarc-sep
                throw .emptyTag(position: index)
            }
            guard let equals = segment.unicodeScalars.firstIndex(of: "=") else { throw .malformedTag(String(segment)) }
            let name = segment[..<equals].trimmingWSP().asciiLowercased()
            let value = segment[segment.unicodeScalars.index(after: equals)...].trimmingWSP()
            guard let head = name.unicodeScalars.first, head.isASCIILetter,
                  name.unicodeScalars.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" })
            else { throw .malformedTag(String(segment)) }
            guard seen.insert(name).inserted else { throw .duplicateTag(name) }
            switch name {
            case "p":
                guard index == 1 else { throw .policyNotFirst }
                if let parsed = DMARCPolicy(rawValue: value.asciiLowercased()) {
                    policy = parsed
                } else {
                    policyProblem = policyProblem ?? .invalidPolicy(tag: "p", value: String(value))
                }
            case "sp":
                if let parsed = DMARCPolicy(rawValue: value.asciiLowercased()) {
                    subdomainPolicy = parsed
                } else {
                    policyProblem = policyProblem ?? .invalidPolicy(tag: "sp", value: String(value))
                }
            case "adkim", "aspf":
                guard let mode = DMARCAlignmentMode(rawValue: value.asciiLowercased()) else {
                    throw .invalidValue(tag: name, value: String(value))
                }
                if name == "adkim" { dkimAlignment = mode } else { spfAlignment = mode }
            case "pct":
                guard (1...3).contains(value.unicodeScalars.count), value.unicodeScalars.allSatisfy(\.isASCIIDigit),
                      let number = Int(value), number <= 100 else { throw .invalidValue(tag: name, value: String(value)) }
                percent = number
            case "ri":
                guard !value.isEmpty, value.unicodeScalars.allSatisfy(\.isASCIIDigit), let number = UInt32(value) else {
                    throw .invalidValue(tag: name, value: String(value))
                }
                reportInterval = number
            case "fo":
                let options = value.splitScalars(":")
                    .map { DMARCFailureOption(rawValue: $0.trimmingWSP().asciiLowercased()) }
                guard options.allSatisfy({ $0 != nil }) else { throw .invalidValue(tag: name, value: String(value)) }
                failureReportingOptions = options.map { $0! }
            case "rf":
                let formats = value.splitScalars(":").map { $0.trimmingWSP() }
                guard formats.allSatisfy(Self.isKeyword) else { throw .invalidValue(tag: name, value: String(value)) }
                reportFormats = formats.map { $0.asciiLowercased() }
            case "rua", "ruf":
                var uris: [DMARCReportURI] = []
                for item in value.splitScalars(",") {
                    guard let uri = DMARCReportURI(parsing: item.trimmingWSP()) else {
                        throw .invalidValue(tag: name, value: String(value))
                    }
                    uris.append(uri)
                }
                if name == "rua" { aggregateReportURIs = uris } else { failureReportURIs = uris }
            default:
                break   // §6.3: unknown tags MUST be ignored
            }
        }

        if let policy, policyProblem == nil {
            self.policy = policy
            return
        }
        if !requirePolicy, policyProblem == nil { return }
        // §6.6.3 step 6: without a valid p (or with an invalid sp), a record whose rua holds a valid URI is
        // treated as p=none; otherwise no DMARC processing applies.
        guard !aggregateReportURIs.isEmpty else { throw policyProblem ?? .missingPolicy }
        self.policy = .none
        self.subdomainPolicy = nil
        self.impliedPolicy = true
    }

    /// RFC 5321 §4.1.2 `Keyword = Ldh-str`, `Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig`.
    static func isKeyword(_ text: Substring) -> Bool {
        guard let last = text.unicodeScalars.last, last.isASCIILetter || last.isASCIIDigit else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "-" }
    }
}

extension DMARCReportURI {
    /// Parses `dmarc-uri` (RFC 7489 §6.4): an absolute URI (RFC 3986 §3: scheme ":" and at least one more
    /// character, all legal URI characters except `,`, `!` and `;`, which §6.4 requires to be
    /// percent-encoded), then optionally `!` size [unit].
    public init?(parsing text: Substring) {
        let parts = text.splitScalars("!", maxSplits: 1)
        let uri = parts[0]
        guard let colon = uri.unicodeScalars.firstIndex(of: ":") else { return nil }
        let scheme = uri[..<colon]
        let rest = uri[uri.unicodeScalars.index(after: colon)...]
        guard let first = scheme.unicodeScalars.first, first.isASCIILetter,
              scheme.unicodeScalars.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || "+-.".unicodeScalars.contains($0) }),
              !rest.isEmpty, Self.isURIText(rest) else { return nil }
        self.init(uri: scheme.asciiLowercased() + ":" + rest)
        if parts.count == 2 {
            var size = parts[1]
            if let last = size.unicodeScalars.last, let unit = SizeUnit(rawValue: String(last).asciiLowercased()) {
                sizeUnit = unit
                size = Substring(size.unicodeScalars.dropLast())
            }
            guard !size.isEmpty, size.unicodeScalars.allSatisfy(\.isASCIIDigit), let number = UInt64(size) else { return nil }
            maxSize = number
        }
    }

    /// RFC 3986 §2: unreserved, reserved (minus `,` `!` `;`) and `%` HEXDIG HEXDIG.
    static func isURIText(_ text: Substring) -> Bool {
        let allowed = Set("-._~:/?#[]@$&'()*+=".unicodeScalars)
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            if scalar == "%" {
                guard let a = scalars.next(), let b = scalars.next(), a.isASCIIHexDigit, b.isASCIIHexDigit else {
                    return false
                }
            } else if !(scalar.isASCIILetter || scalar.isASCIIDigit || allowed.contains(scalar)) {
                return false
            }
        }
        return true
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (RFC 5234 WSP), scalar by scalar.
    func trimmingWSP() -> Substring {
        let scalars = unicodeScalars
        let start = scalars.firstIndex { $0 != " " && $0 != "\t" } ?? scalars.endIndex
        let end = scalars[start...].lastIndex { $0 != " " && $0 != "\t" }.map { scalars.index(after: $0) } ?? start
        return self[start..<end]
    }

    /// Split at every `separator` scalar (never at a grapheme that merely starts with it), keeping empties.
    func splitScalars(_ separator: Unicode.Scalar, maxSplits: Int = .max) -> [Substring] {
        unicodeScalars.split(separator: separator, maxSplits: maxSplits, omittingEmptySubsequences: false)
            .map { Substring($0) }
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIIHexDigit: Bool { isASCIIDigit || ("a"..."f").contains(self) || ("A"..."F").contains(self) }
}

extension StringProtocol {
    /// Lowercases A–Z only, so no non-ASCII character (such as U+212A KELVIN SIGN) can turn into a keyword.
    func asciiLowercased() -> String {
        String(decoding: utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
