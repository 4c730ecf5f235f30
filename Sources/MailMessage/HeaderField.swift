/// Writing one header field (RFC 5322 §2.2): `Name: value`, folded at spaces so that lines stay within 78
/// characters where the value allows it (§2.1.1), each line ending in CRLF; and the checks on header fields
/// an application adds to an `OutgoingMessage`.
enum HeaderField {
    static let foldAt = 78
    /// §2.1.1: a line may never be longer than 998 characters, CRLF excluded.
    static let maxLineLength = 998

    /// `name: value` folded before spaces, ending in CRLF. A break is never put where it would leave a line of
    /// only white space; a run without spaces longer than a line stays whole.
    static func render(_ name: String, _ value: String) -> String {
        let parts = value.split(separator: " ", omittingEmptySubsequences: false)
        var out = ""
        var line = "\(name): \(parts[0])"
        for part in parts.dropFirst() {
            if !part.isEmpty, line.utf8.count + 1 + part.utf8.count > foldAt, line.utf8.count > name.utf8.count + 2 {
                out += line + "\r\n"
                line = " \(part)"
            } else {
                line += " \(part)"
            }
        }
        return out + line + "\r\n"
    }

    /// Fields the builder writes itself; an application may not set them (compared case-insensitively;
    /// every `Content-*` field too).
    static let owned: Set<String> = ["from", "to", "cc", "bcc", "date", "message-id", "mime-version", "subject", "reply-to"]

    /// Checks an application's header field: the name is ftext (RFC 5322 §3.6.8: printable ASCII but `:`)
    /// and not one the builder owns; the value is printable ASCII and tabs, without CR or LF.
    static func check(name: String, value: String) throws {
        let field = "headers.\(name)"
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: ":") }) else {
            throw MIMEBuildError(field: field, message: "a header name is printable ASCII without spaces or \":\" (RFC 5322 §3.6.8)")
        }
        let lower = name.lowercased()
        if owned.contains(lower) || lower.hasPrefix("content-") {
            throw MIMEBuildError(field: field, message: "\(name) is written by Apus from the message's own fields; it cannot be set in headers")
        }
        if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) {
            throw MIMEBuildError(field: field, message: "a header value may not contain CR or LF")
        }
        if value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 >= 0x7F }) {
            throw MIMEBuildError(field: field, message: "a header value must be printable ASCII (encode other text as RFC 2047 encoded-words)")
        }
    }

    /// `Subject` text: anything printable; CR, LF and other control characters are refused rather than hidden.
    static func checkText(_ text: String, field: String) throws {
        if text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            throw MIMEBuildError(field: field, message: "control characters (CR, LF…) are not allowed")
        }
    }

    /// Unstructured text (RFC 5322 §3.2.5) as a header value: as it is when it is ASCII, else encoded-words.
    static func unstructured(_ text: String) -> String {
        EncodedWord.isNeeded(text) ? EncodedWord.encode(text).joined(separator: " ") : text
    }

    /// Whether every line of a rendered header is at most 998 characters.
    static func fitsLines(_ rendered: String) -> Bool {
        rendered.utf8.split(separator: 0x0A).allSatisfy { $0.count <= maxLineLength + 1 }
    }
}
