import Directory

/// chasquid's `domains/<domain>/aliases` → Apus's: the syntax is the same (`name: target, target`,
/// `name: | command`, `*: target`), so lines are copied as they are. A line Apus would refuse (chasquid's
/// `via` forwarding through given servers, or a line chasquid ignores as malformed) is kept as a comment
/// that says why, and reported, so the rest of the file still works.
public enum ChasquidAliases {
    static let marker = "# apus import: not imported"

    /// The text for Apus and a note per line commented out. `source` names the chasquid file in notes.
    public static func apusAliasesFile(_ text: String, domain: String, source: String)
        -> (text: String, aliases: Int, notes: [ImportNote]) {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var notes: [ImportNote] = []
        func disable(_ index: Int, _ why: String) {
            notes.append(.init(.notImported, "\(source):\(index + 1)", "\(why): `\(lines[index])`"))
            lines[index] = "\(marker) (\(why)): \(lines[index])"
        }
        for (index, line) in lines.enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if isVia(line) {
                disable(index, "chasquid's `via` (forwarding through given servers) is not supported by Apus")
                continue
            }
            do {
                _ = try AliasesFile.parse(line, path: source, domain: domain)
            } catch let error as DirectoryError {
                disable(index, error.reason)
            } catch {
                disable(index, "\(error)")
            }
        }
        // What only the whole file shows (a name given twice): comment out the later line, then look again.
        for _ in 0..<lines.count {
            do {
                let file = try AliasesFile.parse(lines.joined(separator: "\n"), path: source, domain: domain)
                return (lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n", file.entries.count, notes)
            } catch let error as DirectoryError {
                guard let line = error.line, line >= 1, line <= lines.count else { break }
                disable(line - 1, error.reason)
            } catch {
                break
            }
        }
        return (lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n", 0, notes)
    }

    /// `name: target via host, host` (chasquid 1.14+): a target list with a ` via ` routing clause.
    static func isVia(_ line: String) -> Bool {
        guard let colon = line.firstIndex(of: ":") else { return false }
        let rest = line[line.index(after: colon)...]
        return !rest.drop(while: { $0 == " " }).hasPrefix("|")
            && rest.split(whereSeparator: { $0 == " " || $0 == "\t" }).contains("via")
    }
}
