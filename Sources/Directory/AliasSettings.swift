/// How the local part of an address is matched to a user: `[aliases]` in apus.toml (the CLI and the server
/// pass the loaded values in; Directory does not depend on Config).
public struct AliasSettings: Sendable, Hashable {
    /// Characters removed from a local part before lookup (`"."`: `j.doe` reaches `jdoe`).
    public var dropCharacters: String
    /// The first of these characters and everything after it are removed before lookup (`"+"`).
    public var suffixSeparators: String

    public init(dropCharacters: String = ".", suffixSeparators: String = "+") {
        self.dropCharacters = dropCharacters
        self.suffixSeparators = suffixSeparators
    }

    /// Lowercases, removes the first suffix separator and all after it, then removes the drop characters:
    /// `"J.Doe+news"` → `"jdoe"`.
    public func normalize(localPart: String) -> String {
        // The usual case, checked over the scalars without making characters: nothing to cut or drop.
        let special = dropCharacters.unicodeScalars.contains { localPart.unicodeScalars.contains($0) }
            || suffixSeparators.unicodeScalars.contains { localPart.unicodeScalars.contains($0) }
        if !special && localPart.unicodeScalars.allSatisfy({ $0.isASCII }) { return localPart.lowercased() }
        var text = localPart.lowercased()
        if let cut = text.firstIndex(where: { suffixSeparators.contains($0) }) {
            text = String(text[..<cut])
        }
        text.removeAll { dropCharacters.contains($0) }
        return text
    }
}
