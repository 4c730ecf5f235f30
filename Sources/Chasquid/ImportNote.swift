/// Something an import could not carry over as it was, or had to assume: printed after the summary table.
public struct ImportNote: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Carried over, on an assumption the operator should check.
        case assumed
        /// Left behind: no Apus equivalent, or not safe to guess.
        case notImported
    }

    public var kind: Kind
    /// Where it comes from: `chasquid.conf:12`, `domains/example.com/users`, …
    public var source: String
    public var text: String

    public init(_ kind: Kind, _ source: String, _ text: String) {
        self.kind = kind
        self.source = source
        self.text = text
    }

    public var description: String { "\(source): \(text)" }
}
