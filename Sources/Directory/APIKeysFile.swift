import Foundation

/// `domains/<domain>/api-keys` (DESIGN.md §3): one API key a line, only its hash.
///
/// ```
/// # comment
/// 3f9c0a51d2e4  sha256:9b1d…(64 hex)  sender=billing@example.com sender=news@example.com name=Billing%20app daily-limit=5000 created=2026-12-05T21:30:00Z
/// ```
/// The id (12 lowercase hex) and the hash come first, then optional `key=value` fields in any order:
/// `sender=` (repeatable; addresses of this domain; none = any address of it), `name=` (percent-encoded:
/// `%20` for a space, `%25` for `%`), `daily-limit=` (a positive integer) and `created=` (RFC 3339, UTC).
/// Blank lines and lines starting with `#` are ignored; anything else that does not fit is an error naming
/// its line. `apus key create|revoke` edit the file (`APIKeyFileEditor`); it may also be edited by hand.
public enum APIKeysFile {
    public static func parse(_ text: String, domain: String) throws -> [APIKey] {
        try parse(text, domain: domain, path: nil)
    }

    /// As `parse(_:domain:)`, with `path` in the errors (`PATH:LINE: reason`).
    public static func parse(_ text: String, domain: String, path: String?) throws -> [APIKey] {
        let domain = MailDirectory.key(domain)
        var keys: [APIKey] = []
        var seen: [String: Int] = [:]
        for (index, line) in lines(text).enumerated() {
            let number = index + 1
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty || fields[0].hasPrefix("#") { continue }
            do {
                let key = try parseLine(fields, domain: domain)
                if let first = seen[key.id] { throw DirectoryError(path: nil, reason: "duplicate key id \(key.id) (first on line \(first))") }
                seen[key.id] = number
                keys.append(key)
            } catch let error as DirectoryError {
                throw DirectoryError(path: path, line: number, reason: error.reason)
            }
        }
        return keys
    }

    /// Lines without their ends (LF or CRLF).
    static func lines(_ text: String) -> [Substring] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    static func parseLine(_ fields: [Substring], domain: String) throws -> APIKey {
        func fail(_ why: String) -> DirectoryError { DirectoryError(path: nil, reason: why) }
        guard fields.count >= 2 else { throw fail("expected `ID  sha256:HASH  [sender=ADDR ...] [name=NAME] [daily-limit=N] [created=TIME]`") }
        let id = String(fields[0]), hash = String(fields[1])
        guard isKeyID(id) else { throw fail("\"\(id)\" is not a key id (12 lowercase hex characters)") }
        guard hash.hasPrefix(APIKey.hashPrefix), let digest = Hex.decode(hash.dropFirst(APIKey.hashPrefix.count)), digest.count == 32 else {
            throw fail("key \(id): \"\(hash)\" is not sha256: and 64 lowercase hex characters")
        }
        var key = APIKey(id: id, domain: domain, hash: hash)
        for field in fields.dropFirst(2) {
            guard let equals = field.firstIndex(of: "=") else { throw fail("key \(id): \"\(field)\" is not name=value") }
            let name = field[..<equals], value = String(field[field.index(after: equals)...])
            switch name {
            case "sender":
                if let why = senderProblem(value, domain: domain) { throw fail("key \(id): \(why)") }
                key.senders.append(value)
            case "name":
                guard key.name == nil else { throw fail("key \(id): name= given twice") }
                guard let decoded = value.removingPercentEncoding, !decoded.isEmpty else {
                    throw fail("key \(id): name=\(value) is not percent-encoded text")
                }
                key.name = decoded
            case "daily-limit":
                guard key.dailyLimit == nil else { throw fail("key \(id): daily-limit= given twice") }
                guard let limit = Int(value), limit > 0 else { throw fail("key \(id): daily-limit=\(value) is not a positive whole number") }
                key.dailyLimit = limit
            case "created":
                guard key.created == nil else { throw fail("key \(id): created= given twice") }
                guard let date = Timestamp.parse(value) else { throw fail("key \(id): created=\(value) is not an RFC 3339 time like 2026-12-05T21:30:00Z") }
                key.created = date
            default:
                throw fail("key \(id): unknown field \"\(name)\" (expected sender, name, daily-limit or created)")
            }
        }
        return key
    }

    /// Why `address` cannot be a sender of a key of `domain`, or nil.
    public static func senderProblem(_ address: String, domain: String) -> String? {
        guard let at = address.lastIndex(of: "@"), at != address.startIndex,
              !address.contains(where: { $0 == " " || $0 == "\t" || $0.isNewline }) else {
            return "sender \"\(address)\" is not an address"
        }
        let senderDomain = MailDirectory.key(String(address[address.index(after: at)...]))
        guard senderDomain == MailDirectory.key(domain) else {
            return "sender \(address) is not in \(MailDirectory.key(domain)); a key sends only for its own domain"
        }
        return nil
    }

    static func isKeyID(_ s: String) -> Bool {
        s.utf8.count == 12 && Hex.decode(s) != nil
    }

    /// One line per key, in the order given, each ending in a newline.
    public static func render(_ keys: [APIKey]) -> String {
        keys.map { line($0) + "\n" }.joined()
    }

    static func line(_ key: APIKey) -> String {
        var fields = [key.id, key.hash]
        fields += key.senders.map { "sender=\($0)" }
        if let name = key.name { fields.append("name=\(percentEncoded(name))") }
        if let limit = key.dailyLimit { fields.append("daily-limit=\(limit)") }
        if let created = key.created { fields.append("created=\(Timestamp.format(created))") }
        return fields.joined(separator: "  ")
    }

    /// A name as one field: `%`, white space and control characters as `%XX` (UTF-8).
    static func percentEncoded(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            if scalar == "%" || scalar.value <= 0x20 || scalar.value == 0x7F || scalar.properties.isWhitespace {
                for byte in String(scalar).utf8 { out += "%" + Hex.encode([byte]).uppercased() }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The comment a new file starts with.
    public static func header(domain: String) -> String {
        """
        # API keys of \(domain): one a line, the key's id, the SHA-256 of the key, then optional
        # sender=ADDR (repeatable), name=NAME (percent-encoded), daily-limit=N and created=TIME.
        # Manage them with `apus key create|list|revoke`; the keys themselves are never stored.

        """
    }
}
