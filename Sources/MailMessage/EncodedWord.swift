import Foundation

/// RFC 2047 encoded-words: how non-ASCII text travels in a header (`=?UTF-8?B?w4l0w6k=?=`).
///
/// Apus writes only the `B` (base64) form of UTF-8. A word is at most `maxLength` characters — well under
/// RFC 2047 §2's 75 — so that `Subject: ` plus one word stays under 78 characters and the header folder
/// (`HeaderField.fold`) can put each word on its own line. A word never splits a Unicode scalar (§5: each
/// encoded-word must decode to whole characters on its own); readers join adjacent words without the space.
enum EncodedWord {
    /// Characters of one word: `=?UTF-8?B?` + base64 + `?=`.
    static let maxLength = 60
    static let prefix = "=?UTF-8?B?"
    static let suffix = "?="

    /// Whether `text` cannot go into a header as it is: it has non-ASCII characters, or something a reader
    /// would take for an encoded-word (RFC 2047 §5 asks to encode such text too).
    static func isNeeded(_ text: String) -> Bool {
        text.utf8.contains { $0 >= 0x80 } || text.contains("=?")
    }

    /// `text` as encoded-words, to be joined with single spaces.
    static func encode(_ text: String) -> [String] {
        let payloadBytes = (maxLength - prefix.count - suffix.count) / 4 * 3
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > payloadBytes {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words
    }

    static func word(_ bytes: [UInt8]) -> String {
        prefix + Data(bytes).base64EncodedString() + suffix
    }
}
