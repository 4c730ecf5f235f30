// A message as DKIM sees it: RFC 5322 header fields (each with its folding, byte-exact) and the body.
// Input is expected in SMTP's canonical CRLF form (RFC 6376 §5.3); a bare LF also ends a line here so that a
// file with Unix line endings still splits, and `normalizingLineEndings` converts such input when signing.

/// One header field, byte-exact: `raw` runs from the name to the final CRLF, continuation lines included.
public struct DKIMHeaderField: Sendable, Hashable {
    public var raw: [UInt8]
    /// The field name as written, without trailing whitespace before the colon.
    public var name: String
    /// Index of the colon in `raw`.
    public var colon: Int

    /// The bytes after the colon, up to and excluding the final line break.
    public var valueBytes: ArraySlice<UInt8> {
        var end = raw.endIndex
        if end > colon + 1, raw[end - 1] == 0x0A { end -= 1 }
        if end > colon + 1, raw[end - 1] == 0x0D { end -= 1 }
        return raw[(colon + 1)..<end]
    }

    public func hasName(_ other: String) -> Bool { name.lowercased() == other.lowercased() }
}

public enum DKIMMessageError: Error, Sendable, Hashable, CustomStringConvertible {
    case headerWithoutColon(line: Int)
    case emptyHeaderName(line: Int)

    public var description: String {
        switch self {
        case .headerWithoutColon(let n): return "malformed message: header line \(n) has no colon"
        case .emptyHeaderName(let n): return "malformed message: header line \(n) has an empty name"
        }
    }
}

public struct DKIMMessage: Sendable {
    public var headers: [DKIMHeaderField]
    public var body: ArraySlice<UInt8>

    /// Splits at the first empty line. A message without one is all header and has an empty body.
    public init(_ bytes: [UInt8]) throws(DKIMMessageError) {
        var headers: [DKIMHeaderField] = []
        var pos = 0
        var fieldStart: Int?
        var lineNumber = 0
        var fieldLine = 0
        var bodyStart = bytes.count

        func finish(_ start: Int, _ end: Int) throws(DKIMMessageError) {
            let raw = Array(bytes[start..<end])
            guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { throw .headerWithoutColon(line: fieldLine) }
            var nameEnd = colon
            while nameEnd > 0, isWSP(raw[nameEnd - 1]) { nameEnd -= 1 }
            guard nameEnd > 0 else { throw .emptyHeaderName(line: fieldLine) }
            headers.append(DKIMHeaderField(raw: raw, name: String(decoding: raw[0..<nameEnd], as: UTF8.self), colon: colon))
        }

        while pos < bytes.count {
            let lineEnd = bytes[pos...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
            lineNumber += 1
            let line = bytes[pos..<lineEnd]
            let isEmpty = line.elementsEqual([0x0D, 0x0A]) || line.elementsEqual([0x0A])
            if isEmpty {
                if let s = fieldStart { try finish(s, pos) }
                fieldStart = nil
                bodyStart = lineEnd
                break
            }
            if isWSP(bytes[pos]), fieldStart != nil {
                // continuation line of the current field
            } else {
                if let s = fieldStart { try finish(s, pos) }
                fieldStart = pos
                fieldLine = lineNumber
            }
            pos = lineEnd
        }
        if let s = fieldStart { try finish(s, min(pos, bytes.count)) }
        self.headers = headers
        self.body = bytes[min(bodyStart, bytes.count)...]
    }

    /// Converts every bare LF to CRLF (RFC 6376 §5.3: "convert local line endings to CRLF before signing").
    public static func normalizingLineEndings(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 32)
        var previous: UInt8 = 0
        for b in bytes {
            if b == 0x0A, previous != 0x0D { out.append(0x0D) }
            out.append(b)
            previous = b
        }
        return out
    }
}
