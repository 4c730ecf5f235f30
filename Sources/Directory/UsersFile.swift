/// The parsed `domains/<domain>/users` file: one `name  $scrypt$…` per line, `#` comments, blank lines.
public struct UsersFile: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var phc: String
        /// The 1-based line number.
        public var line: Int
    }

    public var path: String
    /// Users in file order.
    public var entries: [Entry]
    /// The text's lines, as they are (without line ends), for editing.
    var lines: [Substring]

    /// Parses the text of a users file; `path` is used in messages. Checks every hash and name, and that no
    /// two names are the same (also after removing drop characters).
    public static func parse(_ text: String, path: String, aliases: AliasSettings = AliasSettings()) throws -> UsersFile {
        // "\r\n" is one Character in Swift, so split on both forms (an edited file is written with "\n").
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if lines.last == "" { lines.removeLast() }
        var entries: [Entry] = []
        var seen: [String: Int] = [:]      // normalized name → line
        for (index, rawLine) in lines.enumerated() {
            let number = index + 1
            func fail(_ why: String) -> DirectoryError { DirectoryError(path: path, line: number, reason: why) }
            let fields = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty || fields[0].hasPrefix("#") { continue }
            guard fields.count == 2 else {
                throw fail(fields.count == 1 ? "user \"\(fields[0])\" has no password hash; expected `name  $scrypt$…`"
                           : "expected `name  $scrypt$…`, found \(fields.count) fields")
            }
            let name = String(fields[0]), phc = String(fields[1])
            if let why = UserName.problem(name, aliases: aliases) { throw fail(why) }
            do {
                _ = try PasswordHash.parse(phc)
            } catch let error as DirectoryError {
                throw fail("user \"\(name)\": \(error.reason)")
            }
            let key = aliases.normalize(localPart: name)
            if let first = seen[key] {
                let other = entries.first { $0.line == first }!.name
                throw fail(other == name ? "duplicate user \"\(name)\" (first on line \(first))"
                           : "user \"\(name)\" is the same address as \"\(other)\" on line \(first) once drop characters are removed")
            }
            seen[key] = number
            entries.append(Entry(name: name, phc: phc, line: number))
        }
        return UsersFile(path: path, entries: entries, lines: lines)
    }

    /// The text with the same lines (always ending in a newline).
    var text: String {
        lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }
}
