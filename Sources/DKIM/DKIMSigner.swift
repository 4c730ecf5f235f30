import Crypto
import Foundation

// The signer: one DKIM-Signature per key, each computed over the message as given, all placed on top.
// Defaults follow DESIGN.md §4: relaxed/relaxed, a fixed list of fields worth protecting, over-signing of the
// fields whose addition would change what a reader sees.

public enum DKIMSignError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformedMessage(DKIMMessageError)
    case noFromHeader
    case signingFailed(String)

    public var description: String {
        switch self {
        case .malformedMessage(let e): return "\(e)"
        case .noFromHeader: return "message has no From header field (RFC 6376 §5.4 requires signing it)"
        case .signingFailed(let why): return "signing failed: \(why)"
        }
    }
}

public struct DKIMSigner: Sendable {
    /// Fields signed when present, in this order (RFC 6376 §5.4.1 recommendations plus MIME and list fields).
    public static let defaultSignedHeaders: [String] = [
        "from", "reply-to", "subject", "date", "message-id", "to", "cc",
        "in-reply-to", "references", "mime-version", "content-type", "content-transfer-encoding",
        "content-disposition", "content-id", "content-description", "content-language",
        "resent-date", "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-message-id",
        "sender", "list-id", "list-help", "list-unsubscribe", "list-unsubscribe-post", "list-subscribe",
        "list-post", "list-owner", "list-archive", "autocrypt", "openpgp",
    ]
    /// Listed once more than they occur, so that nobody can add one later (RFC 6376 §8.15).
    public static let defaultOverSignedHeaders: Set<String> = [
        "from", "to", "cc", "subject", "date", "message-id", "reply-to",
    ]

    /// t=, seconds since the epoch (injected: the signer has no clock).
    public var timestamp: Int64
    /// x=, or nil for none.
    public var expiration: Int64?
    public var headerCanonicalization: DKIMCanonicalization = .relaxed
    public var bodyCanonicalization: DKIMCanonicalization = .relaxed
    public var signedHeaders: [String] = DKIMSigner.defaultSignedHeaders
    public var overSignedHeaders: Set<String> = DKIMSigner.defaultOverSignedHeaders
    /// Adds l= (the canonical body length). Off by default: l= lets anyone append to the body.
    public var includeBodyLength = false

    public init(timestamp: Int64, expiration: Int64? = nil) {
        self.timestamp = timestamp
        self.expiration = expiration
    }

    /// The message with one DKIM-Signature field per key prepended, in the order of `keys`.
    public func sign(message: [UInt8], keys: [DKIMSigningKey]) throws(DKIMSignError) -> [UInt8] {
        let parsed: DKIMMessage
        do { parsed = try DKIMMessage(message) } catch { throw .malformedMessage(error) }
        guard parsed.headers.contains(where: { $0.hasName("from") }) else { throw .noFromHeader }

        let canonicalBody = bodyCanonicalization.canonicalizeBody(parsed.body)
        let bodyHash = sha256(canonicalBody).base64
        let h = headerList(for: parsed.headers)

        var out: [UInt8] = []
        for key in keys {
            out += try signatureField(key: key, headers: parsed.headers, headerNames: h, bodyHash: bodyHash,
                                      bodyLength: includeBodyLength ? canonicalBody.count : nil)
        }
        return out + message
    }

    /// The DKIM-Signature fields (one per key, to be put on top) for a message whose body is not in memory:
    /// `header` is its header section, `body` the digest of its body computed with `DKIMBodyHasher` in
    /// `bodyCanonicalization` and no limit. Same fields as `sign(message:keys:)` gives for the whole message.
    public func signatureFields(header: [UInt8], body: DKIMBodyDigest, keys: [DKIMSigningKey]) throws(DKIMSignError) -> [UInt8] {
        let parsed: DKIMMessage
        do { parsed = try DKIMMessage(header) } catch { throw .malformedMessage(error) }
        guard parsed.headers.contains(where: { $0.hasName("from") }) else { throw .noFromHeader }
        let h = headerList(for: parsed.headers)
        var out: [UInt8] = []
        for key in keys {
            out += try signatureField(key: key, headers: parsed.headers, headerNames: h, bodyHash: body.hash.base64,
                                      bodyLength: includeBodyLength ? Int(body.canonicalLength) : nil)
        }
        return out
    }

    /// The h= list for these fields: each configured name as often as it occurs, over-signed names once more.
    public func headerList(for headers: [DKIMHeaderField]) -> [String] {
        var names: [String] = []
        for name in signedHeaders {
            let count = headers.filter { $0.hasName(name) }.count
            let times = overSignedHeaders.contains(name) ? count + 1 : count
            names += Array(repeating: name, count: times)
        }
        return names
    }

    func signatureField(key: DKIMSigningKey, headers: [DKIMHeaderField], headerNames: [String],
                        bodyHash: String, bodyLength: Int?) throws(DKIMSignError) -> [UInt8] {
        var tags: [String] = [
            "v=1", "a=\(key.algorithm.rawValue)",
            "c=\(headerCanonicalization.rawValue)/\(bodyCanonicalization.rawValue)",
            "d=\(key.domain)", "s=\(key.selector)", "t=\(timestamp)",
        ]
        if let expiration { tags.append("x=\(expiration)") }
        if let bodyLength { tags.append("l=\(bodyLength)") }
        tags.append("h=" + headerNames.joined(separator: ":"))
        tags.append("bh=\(bodyHash)")

        // Fold the field up to and including "b=", sign that, then append the folded signature value.
        var folder = HeaderFolder(start: "DKIM-Signature: ")
        for tag in tags { folder.appendTag(tag + ";", breakAfter: ":") }
        folder.appendTag("b=", breakAfter: nil)
        let unsigned = Array(folder.text.utf8)
        let field = DKIMHeaderField(raw: unsigned + [0x0D, 0x0A], name: "DKIM-Signature", colon: 14)
        let data = DKIMHeaderHash.signedData(headers: headers, signedHeaders: headerNames,
                                             canonicalization: headerCanonicalization, signatureField: field.raw)
        let signature: [UInt8]
        do { signature = try key.sign(data) } catch { throw .signingFailed("\(error)") }
        folder.appendRaw(signature.base64)
        return Array((folder.text + "\r\n").utf8)
    }
}

/// Builds a folded header field: lines stay within `DKIMLimits.foldColumn`, continuation lines start with
/// one space. Tags are separated by a space; a long tag value breaks after `breakAfter` characters.
struct HeaderFolder {
    private(set) var text: String
    private var column: Int
    private let limit = DKIMLimits.foldColumn

    init(start: String) {
        text = start
        column = start.utf8.count
    }

    mutating func appendTag(_ tag: String, breakAfter: Character?) {
        let needsSpace = !(text.last == " ")
        let width = tag.utf8.count + (needsSpace ? 1 : 0)
        if column + width <= limit {
            if needsSpace { text += " "; column += 1 }
            text += tag
            column += tag.utf8.count
            return
        }
        newLine()
        // Break long values (h=) after separators.
        guard let breakAfter, tag.utf8.count > limit - column else {
            text += tag
            column += tag.utf8.count
            return
        }
        var piece = ""
        for ch in tag {
            piece.append(ch)
            if ch == breakAfter {
                emit(piece)
                piece = ""
            }
        }
        emit(piece)
    }

    /// Appends a value with no inner spaces (base64), breaking it anywhere.
    mutating func appendRaw(_ value: String) {
        for ch in value {
            if column + 1 > limit { newLine() }
            text.append(ch)
            column += 1
        }
    }

    private mutating func emit(_ piece: String) {
        if column + piece.utf8.count > limit, column > 1 { newLine() }
        text += piece
        column += piece.utf8.count
    }

    private mutating func newLine() {
        text += "\r\n "
        column = 1
    }
}

extension Array where Element == UInt8 {
    var base64: String { Data(self).base64EncodedString() }
}

func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
