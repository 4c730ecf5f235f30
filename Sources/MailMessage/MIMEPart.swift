import Foundation

/// A MIME entity as read from a received message (RFC 2045, RFC 2046): its header fields (unfolded) and its
/// body bytes, with the parts of a multipart body split out. Only what reading reports needs: no decoding
/// of transfer encodings beyond what `text` gives for 7bit/8bit/quoted-printable/base64 text.
///
/// Limits (hostile input): at most `maxParts` parts in all and `maxDepth` levels of nesting; a part past
/// them is left unsplit.
public struct MIMEPart: Sendable, Hashable {
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var parts: [MIMEPart]

    public static let maxDepth = 8
    public static let maxParts = 200

    public static func == (a: MIMEPart, b: MIMEPart) -> Bool {
        a.headers.elementsEqual(b.headers, by: { $0.name == $1.name && $0.value == $1.value }) && a.body == b.body && a.parts == b.parts
    }
    public func hash(into hasher: inout Hasher) {
        for h in headers { hasher.combine(h.name); hasher.combine(h.value) }
        hasher.combine(body)
    }

    /// The first field named `name` (case-insensitive), unfolded and trimmed.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The media type in lowercase ("multipart/report"); "text/plain" when absent (RFC 2045 §5.2).
    public var contentType: String {
        guard let value = header("Content-Type") else { return "text/plain" }
        return value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "text/plain"
    }

    /// A parameter of Content-Type (`boundary`, `report-type`), unquoted.
    public func contentTypeParameter(_ name: String) -> String? {
        guard let value = header("Content-Type") else { return nil }
        return Self.parameters(value)[name.lowercased()]
    }

    /// `;`-separated `name=value` parameters of a structured field, names lowercased, values unquoted.
    static func parameters(_ value: String) -> [String: String] {
        var out: [String: String] = [:]
        var rest = Substring(value)
        guard let first = rest.firstIndex(of: ";") else { return out }
        rest = rest[rest.index(after: first)...]
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == ";" }
            guard let eq = rest.firstIndex(of: "=") else { break }
            let name = rest[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: eq)...].drop { $0 == " " || $0 == "\t" }
            var v = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped { v.append(c); escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { break } else { v.append(c) }
                }
                rest = rest.drop { $0 != ";" }
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                v = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            if out[name] == nil { out[name] = v }
        }
        return out
    }

    /// The body as text: quoted-printable and base64 decoded, bytes read as UTF-8 (invalid bytes replaced).
    public var text: String {
        let encoding = header("Content-Transfer-Encoding")?.lowercased() ?? "7bit"
        switch encoding {
        case "base64": return String(decoding: Self.base64(body), as: UTF8.self)
        case "quoted-printable": return String(decoding: Self.quotedPrintable(body), as: UTF8.self)
        default: return String(decoding: body, as: UTF8.self)
        }
    }

    /// Parses a whole message or entity.
    public static func parse(_ bytes: [UInt8]) -> MIMEPart {
        var budget = maxParts
        return parse(bytes[...], depth: 0, budget: &budget)
    }

    static func parse(_ bytes: ArraySlice<UInt8>, depth: Int, budget: inout Int) -> MIMEPart {
        let (headers, body) = splitHeader(bytes)
        var part = MIMEPart(headers: headers, body: Array(body), parts: [])
        if part.contentType.hasPrefix("multipart/"), depth < maxDepth, let boundary = part.contentTypeParameter("boundary"),
           !boundary.isEmpty {
            for chunk in split(body, boundary: Array(boundary.utf8)) {
                guard budget > 0 else { break }
                budget -= 1
                part.parts.append(parse(chunk, depth: depth + 1, budget: &budget))
            }
        }
        return part
    }

    /// The header fields (unfolded) and the body after the first empty line (CRLF or LF line ends).
    static func splitHeader(_ bytes: ArraySlice<UInt8>) -> ([(name: String, value: String)], ArraySlice<UInt8>) {
        var fields: [(name: String, value: String)] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            var end = i
            while end < bytes.endIndex, bytes[end] != 10 { end += 1 }
            var lineEnd = end
            if lineEnd > i, bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
            let next = end < bytes.endIndex ? end + 1 : end
            if lineEnd == i { return (fields, bytes[next...]) }   // the empty line
            let line = String(decoding: bytes[i..<lineEnd], as: UTF8.self)
            if (bytes[i] == 32 || bytes[i] == 9), !fields.isEmpty {
                fields[fields.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                fields.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                               String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
            } else {
                return (fields, bytes[i...])   // not a header line: the body starts here
            }
            i = next
        }
        return (fields, bytes[bytes.endIndex...])
    }

    /// The parts between `--boundary` lines, up to `--boundary--` (RFC 2046 §5.1.1).
    static func split(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        let delimiter: [UInt8] = [45, 45] + boundary
        var parts: [ArraySlice<UInt8>] = []
        var start: Int?
        var i = body.startIndex
        while i < body.endIndex {
            var end = i
            while end < body.endIndex, body[end] != 10 { end += 1 }
            let line = body[i..<end]
            let next = end < body.endIndex ? end + 1 : end
            if line.starts(with: delimiter) {
                let after = line.dropFirst(delimiter.count)
                let closing = after.starts(with: [45, 45])
                let rest = closing ? after.dropFirst(2) : after
                if rest.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) {
                    if let s = start {
                        var stop = i
                        if stop > s, body[stop - 1] == 10 { stop -= 1 }
                        if stop > s, body[stop - 1] == 13 { stop -= 1 }
                        parts.append(body[s..<stop])
                    }
                    if closing { return parts }
                    start = next
                }
            }
            i = next
        }
        if let s = start, s < body.endIndex { parts.append(body[s...]) }
        return parts
    }

    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: 255, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { table[Int(c)] = UInt8(i) }
        var out: [UInt8] = [], acc: UInt32 = 0, bits = 0
        for b in bytes where table[Int(b)] != 255 {
            acc = acc << 6 | UInt32(table[Int(b)])
            bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits))) }
        }
        return out
    }

    static func quotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 65...70: return c - 55
            case 97...102: return c - 87
            default: return nil
            }
        }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == 61 {   // "="
                if i + 2 < bytes.count, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) { out.append(h << 4 | l); i += 3; continue }
                if i + 1 < bytes.count, bytes[i + 1] == 10 { i += 2; continue }
                if i + 2 < bytes.count, bytes[i + 1] == 13, bytes[i + 2] == 10 { i += 3; continue }
            }
            out.append(bytes[i])
            i += 1
        }
        return out
    }
}
