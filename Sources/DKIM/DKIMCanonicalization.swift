// RFC 6376 §3.4, canonicalization.
//
// Header, simple (§3.4.1): the field exactly as it is.
// Header, relaxed (§3.4.2): lowercase the name; unfold (delete CRLF before WSP); turn each run of WSP into one
//   SP; delete WSP at the end of the value and around the colon: `name:value CRLF`.
// Body, simple (§3.4.3): delete empty lines at the end; an empty body becomes one CRLF.
// Body, relaxed (§3.4.4): delete WSP at the end of each line; turn each run of WSP into one SP; delete empty
//   lines at the end; an empty body stays empty (errata 3411). Both: a last line without CRLF gets one.
// Only CRLF ends a line; a bare CR or LF is ordinary content.

extension DKIMCanonicalization {
    /// The canonical form of one header field (`raw` includes its final CRLF).
    public func canonicalizeHeader<Bytes: Collection>(_ raw: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        let bytes = Array(raw)
        switch self {
        case .simple:
            return bytes
        case .relaxed:
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return bytes }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            for b in bytes[..<colon] where !isWSP(b) {
                out.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
            }
            out.append(UInt8(ascii: ":"))
            var pendingSpace = false
            var atValueStart = true                         // WSP after the colon is deleted
            for b in bytes[(colon + 1)...] {
                if b == 0x0D || b == 0x0A { continue }      // unfold; the final CRLF goes too
                if isWSP(b) { pendingSpace = true; continue }
                if pendingSpace, !atValueStart { out.append(0x20) }
                pendingSpace = false
                atValueStart = false
                out.append(b)
            }
            out.append(contentsOf: [0x0D, 0x0A])
            return out
        }
    }

    /// The canonical form of a body.
    public func canonicalizeBody<Bytes: Collection>(_ body: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        let bytes = Array(body)
        // Split into lines at CRLF; a non-empty remainder is a last line without CRLF.
        var lines: [ArraySlice<UInt8>] = []
        var start = 0, i = 0
        while i + 1 < bytes.count {
            if bytes[i] == 0x0D, bytes[i + 1] == 0x0A {
                lines.append(bytes[start..<i])
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        if start < bytes.count { lines.append(bytes[start...]) }

        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 2)
        var pendingEmpty = 0
        for line in lines {
            let canonical: ArraySlice<UInt8>
            switch self {
            case .simple: canonical = line
            case .relaxed: canonical = ArraySlice(Self.relaxLine(line))
            }
            if canonical.isEmpty { pendingEmpty += 1; continue }
            for _ in 0..<pendingEmpty { out.append(contentsOf: [0x0D, 0x0A]) }
            pendingEmpty = 0
            out.append(contentsOf: canonical)
            out.append(contentsOf: [0x0D, 0x0A])
        }
        if out.isEmpty, self == .simple { return [0x0D, 0x0A] }
        return out
    }

    private static func relaxLine(_ line: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.count)
        var pendingSpace = false
        for b in line {
            if isWSP(b) { pendingSpace = true; continue }
            if pendingSpace { out.append(0x20) }
            pendingSpace = false
            out.append(b)
        }
        return out
    }
}
