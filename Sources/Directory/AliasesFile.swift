import SMTPProtocol

/// The parsed `domains/<domain>/aliases` file, in chasquid's syntax (DESIGN.md §3):
///
/// ```
/// # a comment (only whole lines; `#` elsewhere is part of the text)
/// info: alice, bob                  bare names take this file's domain
/// sales: alice, someone@other.example
/// list: | /usr/bin/list-handler --name "the list"
/// *: dev                            catch-all: used when no alias and no user matches
/// *: *@other.example                a target's local part `*` is the local part that was asked for
/// ```
///
/// A left side is a local part (lowercased; no domain) or `*`. A `| command` target takes the rest of the line
/// and must be its alias's only target; it is run later by `/bin/sh -c` (quotes as in a shell, checked here).
/// Each malformed line is an error `PATH:LINE: reason`.
public struct AliasesFile: Sendable, Equatable {
    public var path: String
    /// Aliases in file order; the catch-all has the name `*`.
    public var entries: [AliasEntry]

    /// Parses the text of an aliases file of `domain` (the domain bare names get); `path` is used in messages.
    public static func parse(_ text: String, path: String, domain: String) throws -> AliasesFile {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if lines.last == "" { lines.removeLast() }
        var entries: [AliasEntry] = []
        var seen: [String: Int] = [:]
        for (index, rawLine) in lines.enumerated() {
            let number = index + 1
            let line = rawLine.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                let entry = try parseLine(line, domain: domain, line: number)
                if let first = seen[entry.name] {
                    throw AliasSyntaxError(entry.name == "*" ? "a second catch-all `*` (the first is on line \(first))"
                                           : "duplicate alias \"\(entry.name)\" (first on line \(first))")
                }
                seen[entry.name] = number
                entries.append(entry)
            } catch let error as AliasSyntaxError {
                throw DirectoryError(path: path, line: number, reason: error.reason)
            }
        }
        return AliasesFile(path: path, entries: entries)
    }

    static func parseLine(_ line: Substring, domain: String, line number: Int) throws -> AliasEntry {
        guard let colon = line.firstIndex(of: ":") else {
            throw AliasSyntaxError("expected `name: target, target…`, found no \":\"")
        }
        let rawName = line[..<colon].trimmingSpaces
        let rest = line[line.index(after: colon)...].trimmingSpaces
        let name = rawName.lowercased()
        if name.isEmpty { throw AliasSyntaxError("an alias needs a name before \":\"") }
        if name != "*" {
            if name.contains("@") {
                throw AliasSyntaxError("alias \"\(rawName)\" has a domain; write only the part before @ (the domain is this file's directory)")
            }
            guard name.utf8.count <= 64, (try? Mailbox.parse("\(name)@\(domain)")) != nil else {
                throw AliasSyntaxError("alias name \"\(rawName)\" is not a valid local part")
            }
        }
        if rest.isEmpty { throw AliasSyntaxError("alias \"\(name)\" has no target") }
        if rest.hasPrefix("|") {
            let command = String(rest.dropFirst().trimmingSpaces)
            if command.isEmpty { throw AliasSyntaxError("alias \"\(name)\": no command after \"|\"") }
            if let why = ShellWords.problem(command) { throw AliasSyntaxError("alias \"\(name)\": \(why)") }
            return AliasEntry(name: name, targets: [.pipe(command)], line: number)
        }
        var targets: [AliasTarget] = []
        for item in rest.split(separator: ",", omittingEmptySubsequences: false) {
            let text = item.trimmingSpaces
            if text.isEmpty { throw AliasSyntaxError("alias \"\(name)\": empty target (two commas in a row, or a comma at an end)") }
            if text.hasPrefix("|") {
                throw AliasSyntaxError("alias \"\(name)\": a \"| command\" must be its alias's only target; give the command its own alias")
            }
            if text.contains(where: { $0 == " " || $0 == "\t" }) {
                throw AliasSyntaxError("alias \"\(name)\": \"\(text)\" is not an address; separate targets with commas")
            }
            if text == "*" {
                throw AliasSyntaxError("alias \"\(name)\": a bare \"*\" target would come back to this domain; write *@DOMAIN")
            }
            let target = try parseTarget(String(text), domain: domain, alias: name)
            if !targets.contains(target) { targets.append(target) }
        }
        return AliasEntry(name: name, targets: targets, line: number)
    }

    static func parseTarget(_ text: String, domain: String, alias: String) throws -> AliasTarget {
        let full = text.contains("@") ? text : "\(text)@\(domain)"
        if full.hasPrefix("*@") {
            // `*@domain`: the local part is filled in at resolution; only the domain is checked here.
            guard let mailbox = try? Mailbox.parse("x@\(full.dropFirst(2))") else {
                throw AliasSyntaxError("alias \"\(alias)\": \"\(text)\" is not a valid address")
            }
            return .address(localPart: "*", domain: mailbox.domain.lookupKey)
        }
        guard let mailbox = try? Mailbox.parse(full) else {
            throw AliasSyntaxError("alias \"\(alias)\": \"\(text)\" is not a valid address")
        }
        return .address(localPart: mailbox.localPart, domain: mailbox.domain.lookupKey)
    }
}

/// One line of an aliases file: `name: targets`.
public struct AliasEntry: Sendable, Hashable {
    /// The lowercased local part, or `*` for the catch-all.
    public var name: String
    public var targets: [AliasTarget]
    /// The 1-based line number.
    public var line: Int

    public init(name: String, targets: [AliasTarget], line: Int) {
        self.name = name
        self.targets = targets
        self.line = line
    }
}

/// The right-hand side of an alias.
public enum AliasTarget: Sendable, Hashable {
    /// An address; `localPart` `*` stands for the local part that was looked up. `domain` is the lookup key
    /// (lowercased A-labels, or `[literal]`).
    case address(localPart: String, domain: String)
    /// `| command`: run by `/bin/sh -c` with the message on stdin.
    case pipe(String)
}

struct AliasSyntaxError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Checks a command line quoted as `/bin/sh` would read it: `'…'`, `"…"` with `\` escapes, and `\x` outside
/// quotes. The command is run by the shell as written; this only catches what the shell would refuse.
enum ShellWords {
    static func problem(_ command: String) -> String? {
        var quote: Character?
        var escaped = false
        for ch in command {
            if ch == "\0" { return "the command contains a NUL character" }
            if escaped { escaped = false; continue }
            switch quote {
            case "'":
                if ch == "'" { quote = nil }
            case "\"":
                if ch == "\\" { escaped = true } else if ch == "\"" { quote = nil }
            default:
                if ch == "\\" { escaped = true } else if ch == "'" || ch == "\"" { quote = ch }
            }
        }
        if let quote { return "the command has an unterminated \(quote) quote" }
        if escaped { return "the command ends with a lone backslash" }
        return nil
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
