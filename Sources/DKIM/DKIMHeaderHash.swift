// RFC 6376 §5.4.2 / §3.7: the data the signature covers. For each name in h=, in order, take the last
// not-yet-used instance of that field, counting from the bottom; a name with no instance left contributes
// nothing (that is what makes over-signing work). Then the DKIM-Signature field itself, with the value of
// b= deleted and without its final CRLF.

enum DKIMHeaderHash {
    static func signedData(headers: [DKIMHeaderField], signedHeaders: [String],
                           canonicalization: DKIMCanonicalization, signatureField: [UInt8]) -> [UInt8] {
        var used = Array(repeating: false, count: headers.count)
        var out: [UInt8] = []
        for name in signedHeaders {
            let lower = name.lowercased()
            if let i = headers.indices.reversed().first(where: { !used[$0] && headers[$0].name.lowercased() == lower }) {
                used[i] = true
                out += canonicalization.canonicalizeHeader(headers[i].raw)
            }
        }
        var sig = canonicalization.canonicalizeHeader(signatureField)
        if sig.suffix(2) == [0x0D, 0x0A] { sig.removeLast(2) }
        return out + sig
    }

    /// The field with the value of its `b=` tag deleted (§3.7: "the value of the b= tag (including all
    /// surrounding whitespace) deleted"); everything else, folding included, stays.
    static func removingSignatureValue(_ field: DKIMHeaderField) -> [UInt8] {
        let raw = field.raw
        let value = field.valueBytes
        var specStart = value.startIndex
        while specStart <= value.endIndex {
            let specEnd = value[specStart...].firstIndex(of: UInt8(ascii: ";")) ?? value.endIndex
            let spec = value[specStart..<specEnd]
            if let eq = spec.firstIndex(of: UInt8(ascii: "=")),
               trimWhitespace(spec[spec.startIndex..<eq]).elementsEqual("b".utf8) {
                return Array(raw[..<(eq + 1)]) + Array(raw[specEnd...])
            }
            specStart = specEnd + 1
        }
        return raw
    }
}
