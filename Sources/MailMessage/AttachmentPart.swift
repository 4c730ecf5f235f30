import Foundation

/// The MIME part of an `Attachment`: base64 in lines of 76 characters (RFC 2045 §6.8) and the file's name in
/// both places readers look for it.
///
/// ```
/// Content-Type: application/pdf; name="report.pdf"
/// Content-Disposition: attachment; filename="report.pdf"
/// Content-Transfer-Encoding: base64
/// ```
/// A name that is not short printable ASCII goes into `filename*` as RFC 2231 UTF-8 percent-encoding, cut into
/// numbered sections (`filename*0*=UTF-8''%C3%A9t%C3%A9…; filename*1*=…`, §3–4) so lines stay short, and
/// into `name=` as RFC 2047 encoded-words for readers that know only that (not standard, but widely read).
enum AttachmentPart {
    static let maxFilenameLength = 255
    /// A quoted `filename="…"` longer than this goes into sections instead.
    static let maxPlainFilename = 60
    static let sectionLength = 54

    static func entity(_ attachment: Attachment, field: String) throws -> MIMEEntity {
        let type = try checkContentType(attachment.contentType, field: "\(field).content_type")
        try checkFilename(attachment.filename, field: "\(field).filename")
        let name = attachment.filename
        let plain = name.utf8.count <= maxPlainFilename && name.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
            && !name.contains("=?")
        let typeValue = "\(type); name=\(quoted(plain ? name : HeaderField.unstructured(name)))"
        let disposition = plain ? "attachment; filename=\(quoted(name))" : "attachment; " + sections(name)
        return .leaf(headers: [("Content-Type", typeValue), ("Content-Disposition", disposition),
                               ("Content-Transfer-Encoding", "base64")],
                     body: base64Lines(attachment.data))
    }

    /// `type/subtype`, lowercased: two RFC 2045 §5.1 tokens; not multipart or message, whose parts may not be
    /// base64 (RFC 2046 §5).
    static func checkContentType(_ value: String, field: String) throws -> String {
        let halves = value.lowercased().split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, halves.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isTokenChar) }) else {
            throw MIMEBuildError(field: field, message: "\"\(value)\" is not a content type of the form type/subtype (no parameters)")
        }
        if halves[0] == "multipart" || halves[0] == "message" {
            throw MIMEBuildError(field: field, message: "\(halves[0])/* cannot be sent as an attachment; use application/octet-stream")
        }
        return halves.joined(separator: "/")
    }

    static func checkFilename(_ name: String, field: String) throws {
        guard !name.isEmpty else { throw MIMEBuildError(field: field, message: "an attachment needs a file name") }
        guard name.count <= maxFilenameLength else {
            throw MIMEBuildError(field: field, message: "a file name is at most \(maxFilenameLength) characters")
        }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw MIMEBuildError(field: field, message: "control characters are not allowed in a file name")
        }
    }

    /// RFC 2045 §5.1 token characters: printable ASCII but space and tspecials.
    static func isTokenChar(_ b: UInt8) -> Bool {
        b > 0x20 && b < 0x7F && !"()<>@,;:\\\"/[]?=".utf8.contains(b)
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }

    /// `filename*0*=UTF-8''…; filename*1*=…` (RFC 2231 §3, §4): percent-encoded UTF-8, sections of at most
    /// `sectionLength` characters, never cutting a `%XX`.
    static func sections(_ name: String) -> String {
        var pieces: [String] = []
        var current = ""
        for byte in name.utf8 {
            let piece = isAttributeChar(byte) ? String(UnicodeScalar(byte)) : "%" + String(decoding: QuotedPrintable.escape(byte).dropFirst(), as: UTF8.self)
            if current.count + piece.count > sectionLength {
                pieces.append(current)
                current = ""
            }
            current += piece
        }
        pieces.append(current)
        return pieces.enumerated().map { index, piece in
            "filename*\(index)*=" + (index == 0 ? "UTF-8''" : "") + piece
        }.joined(separator: "; ")
    }

    /// attribute-char (RFC 2231 §7): a token character other than `*`, `'` and `%`.
    static func isAttributeChar(_ b: UInt8) -> Bool {
        isTokenChar(b) && b != UInt8(ascii: "*") && b != UInt8(ascii: "'") && b != UInt8(ascii: "%")
    }

    /// Base64 in CRLF-ended lines of 76 characters.
    static func base64Lines(_ data: [UInt8]) -> [UInt8] {
        let encoded = Array(Data(data).base64EncodedString().utf8)
        var out: [UInt8] = []
        out.reserveCapacity(encoded.count + encoded.count / 38 + 2)
        var start = 0
        while start < encoded.count {
            let end = min(start + 76, encoded.count)
            out += encoded[start..<end]
            out += [0x0D, 0x0A]
            start = end
        }
        return out
    }
}
