/// A macro-string (RFC 7208 §7.1): literal text with macros that are expanded from the envelope.
///
/// ```
/// macro-string     = *( macro-expand / macro-literal )
/// macro-expand     = ( "%{" macro-letter transformers *delimiter "}" ) / "%%" / "%_" / "%-"
/// macro-literal    = %x21-24 / %x26-7E        ; visible characters except "%"
/// macro-letter     = "s" / "l" / "o" / "d" / "i" / "p" / "h" / "c" / "r" / "t" / "v"
/// transformers     = *DIGIT [ "r" ]
/// delimiter        = "." / "-" / "+" / "," / "/" / "_" / "="
/// explain-string   = *( macro-string / SP )   ; §6.2, the TXT record an exp= modifier names
/// ```
/// `%{l}` is the sender's local part; an uppercase letter (`%{L}`) URL-escapes the value. `c`, `r` and `t`
/// may appear only in explanation text (§7.1).
public struct SPFMacroString: Sendable, Hashable, CustomStringConvertible {
    public var tokens: [Token]

    public enum Token: Sendable, Hashable {
        /// Literal text (in explanation text it may contain spaces).
        case literal(String)
        /// `%%`, `%_` or `%-`: a macro-expand that stands for `%`, a space, or `%20`.
        case escape(Character)
        case macro(SPFMacro)
    }

    public init(tokens: [Token]) { self.tokens = tokens }

    /// The macro letters of a domain-spec (§7.1: c, r and t only in explanation text).
    public static let domainLetters: Set<Character> = ["s", "l", "o", "d", "i", "p", "v", "h"]
    /// Every macro letter (unknown modifiers and explanation text).
    public static let allLetters: Set<Character> = ["s", "l", "o", "d", "i", "p", "v", "h", "c", "r", "t"]

    /// Parses `text` (ASCII; anything else is an error). `allowSpaces` is for explanation text.
    public init(parsing text: Substring, letters: Set<Character> = allLetters,
                allowSpaces: Bool = false) throws(SPFParseError) {
        var tokens: [Token] = []
        var literal = ""
        let bytes = Array(text.utf8)
        var index = 0
        func flush() { if !literal.isEmpty { tokens.append(.literal(literal)); literal = "" } }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 1 < bytes.count else { throw .invalidMacro(String(text)) }
                switch bytes[index + 1] {
                case UInt8(ascii: "%"): flush(); tokens.append(.escape("%")); index += 2
                case UInt8(ascii: "_"): flush(); tokens.append(.escape("_")); index += 2
                case UInt8(ascii: "-"): flush(); tokens.append(.escape("-")); index += 2
                case UInt8(ascii: "{"):
                    guard let close = bytes[(index + 2)...].firstIndex(of: UInt8(ascii: "}")) else {
                        throw .invalidMacro(String(text))
                    }
                    let macro = try SPFMacro(parsing: Array(bytes[(index + 2)..<close]), letters: letters,
                                             context: String(text))
                    flush()
                    tokens.append(.macro(macro))
                    index = close + 1
                default:
                    throw .invalidMacro(String(text))
                }
                continue
            }
            if byte == 0x20 && allowSpaces || (0x21...0x7E).contains(byte) {
                literal.unicodeScalars.append(UnicodeScalar(byte))
                index += 1
            } else {
                throw .invalidCharacter(byte)
            }
        }
        flush()
        self.tokens = tokens
    }

    /// True if expansion needs the validated domain name of the client (`%{p}`), which costs DNS lookups.
    public var usesValidatedDomain: Bool {
        tokens.contains { if case .macro(let m) = $0 { return m.letter == "p" } else { return false } }
    }

    /// The text form; parsing it again gives an equal value.
    public var description: String {
        tokens.map { token in
            switch token {
            case .literal(let text): return text
            case .escape(let c): return "%\(c)"
            case .macro(let macro): return macro.description
            }
        }.joined()
    }
}

/// One `%{…}` macro: letter, transformers and delimiters (RFC 7208 §7.1, §7.3).
public struct SPFMacro: Sendable, Hashable, CustomStringConvertible {
    /// The lowercase macro letter.
    public var letter: Character
    /// True when written in uppercase: the expansion is URL-escaped (§7.3).
    public var urlEscape: Bool
    /// Keep only this many right-hand parts (nil: all). Never zero.
    public var rightParts: Int?
    /// Reverse the parts before keeping the right-hand ones.
    public var reverse: Bool
    /// Characters the value is split on (empty: ".").
    public var delimiters: [Character]

    public init(letter: Character, urlEscape: Bool = false, rightParts: Int? = nil, reverse: Bool = false,
                delimiters: [Character] = []) {
        self.letter = letter; self.urlEscape = urlEscape; self.rightParts = rightParts
        self.reverse = reverse; self.delimiters = delimiters
    }

    static let delimiterSet: Set<UInt8> = Set(".-+,/_=".utf8)

    /// Parses what is between `%{` and `}`.
    init(parsing body: [UInt8], letters: Set<Character>, context: String) throws(SPFParseError) {
        guard let first = body.first, first < 0x80 else { throw .invalidMacro(context) }
        let scalar = Character(UnicodeScalar(first))
        let lower = Character(scalar.lowercased())
        guard Self.isLetter(lower), letters.contains(lower) else { throw .invalidMacro(context) }
        letter = lower
        urlEscape = scalar.isUppercase
        var index = 1
        var digits: Int?
        while index < body.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(body[index]) {
            digits = min((digits ?? 0) * 10 + Int(body[index] - UInt8(ascii: "0")), SPFLimits.macroDigits)
            index += 1
        }
        // §7.3: "If a DIGIT is specified, the value MUST be nonzero."
        if digits == 0 { throw .invalidMacro(context) }
        rightParts = digits
        reverse = false
        if index < body.count, body[index] == UInt8(ascii: "r") || body[index] == UInt8(ascii: "R") {
            reverse = true
            index += 1
        }
        delimiters = []
        while index < body.count {
            guard Self.delimiterSet.contains(body[index]) else { throw .invalidMacro(context) }
            delimiters.append(Character(UnicodeScalar(body[index])))
            index += 1
        }
    }

    static func isLetter(_ c: Character) -> Bool { SPFMacroString.allLetters.contains(c) }

    public var description: String {
        let shown = urlEscape ? Character(letter.uppercased()) : letter
        return "%{\(shown)\(rightParts.map(String.init) ?? "")\(reverse ? "r" : "")\(String(delimiters))}"
    }
}
