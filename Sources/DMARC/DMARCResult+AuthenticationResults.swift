// The `dmarc` method of an Authentication-Results header field (RFC 8601 §2.7, registered by RFC 7489
// §11.2: results none, pass, fail, temperror, permerror; property `header.from`):
//
//   dmarc=fail (p=reject dis=quarantine) header.from=example.com
//
// The comment names the record's `p` (and `sp`, when the record has one) and the disposition actually
// applied — what the domain asked for, adjusted for `pct`, and possibly softened by local configuration —
// as the large mailbox providers write it.

extension DMARCResult {
    /// The `dmarc=…` resinfo (no leading `;`). `disposition` is what the server actually did; by default
    /// the evaluation's `disposition`.
    public func authenticationResult(disposition applied: DMARCPolicy? = nil) -> String {
        var text = "dmarc=\(status.rawValue)"
        if let record {
            var comment = ["p=\(record.policy.rawValue)"]
            if let sp = record.subdomainPolicy { comment.append("sp=\(sp.rawValue)") }
            comment.append("dis=\((applied ?? disposition).rawValue)")
            text += " (" + comment.joined(separator: " ") + ")"
        }
        return text + " header.from=" + Self.pvalue(fromDomain)
    }

    /// RFC 8601 §2.2 `pvalue`: a domain as is when it is a plain token of letters, digits, `-`, `.` and
    /// `_`; otherwise a quoted-string with `\` and `"` escaped and control characters dropped.
    static func pvalue(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy {
            $0.isASCIILetter || $0.isASCIIDigit || $0 == "-" || $0 == "." || $0 == "_"
        }
        if plain { return text }
        var quoted = "\""
        for scalar in text.unicodeScalars where scalar.value >= 0x20 && scalar.value != 0x7F {
            if scalar == "\\" || scalar == "\"" { quoted += "\\" }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }
}
