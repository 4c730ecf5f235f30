/// Rules for user names in `domains/<domain>/users`.
///
/// A name is the local part of the user's address as the server stores it: lowercase, 1 to 64 bytes, made of
/// letters, digits (non-ASCII allowed for SMTPUTF8) and ``!#$%&'*+-/=?^_`{|}~`` (RFC 5322 atext), with dots
/// only between other characters. It may not contain a suffix separator (`alice+x` would never be reached:
/// the `+x` is removed before lookup), and two names may not be equal once drop characters are removed.
public enum UserName {
    static let atextSymbols: Set<Character> = ["!", "#", "$", "%", "&", "'", "*", "+", "-", "/", "=", "?", "^", "_", "`", "{", "|", "}", "~"]

    /// Why `name` cannot be a user name, or nil.
    public static func problem(_ name: String, aliases: AliasSettings = AliasSettings()) -> String? {
        if name.isEmpty { return "empty user name" }
        if name.utf8.count > 64 { return "user name \"\(name)\" is longer than 64 bytes (RFC 5321 §4.5.3.1.1)" }
        if name != name.lowercased() { return "user name \"\(name)\" has capital letters; write \"\(name.lowercased())\"" }
        if name.hasPrefix(".") || name.hasSuffix(".") || name.contains("..") {
            return "user name \"\(name)\" has a dot at its start or end, or two dots in a row"
        }
        for ch in name {
            let ok = ch.isLetter || ch.isNumber || ch == "." || atextSymbols.contains(ch)
            if !ok || (ch.isASCII && !(ch.isLetter || ch.isNumber) && ch != "." && !atextSymbols.contains(ch)) {
                return "user name \"\(name)\" contains \(describe(ch)), which is not allowed"
            }
        }
        if let sep = name.first(where: { aliases.suffixSeparators.contains($0) }) {
            return "user name \"\(name)\" contains \"\(sep)\", a suffix separator ([aliases] suffix_separators): mail could never reach it"
        }
        if aliases.normalize(localPart: name).isEmpty {
            return "user name \"\(name)\" is made only of drop characters ([aliases] drop_characters)"
        }
        return nil
    }

    static func describe(_ ch: Character) -> String {
        if ch.isWhitespace { return "a space" }
        if let scalar = ch.unicodeScalars.first, scalar.value < 0x20 || scalar.value == 0x7F {
            return "a control character"
        }
        return "\"\(ch)\""
    }
}
