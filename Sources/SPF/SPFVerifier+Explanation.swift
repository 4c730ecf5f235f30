import DNSCore

/// The `exp=` modifier (RFC 7208 §6.2).
extension SPFVerifier {
    /// The explanation for a `fail` of `record`: the TXT record `exp=` names, expanded; or the default
    /// explanation. Any problem with `exp=` (a target that is not a valid name, a DNS error, zero or
    /// several TXT records, non-ASCII text, a macro syntax error) means "as if there were no exp=". The
    /// lookup counts against neither limit (§4.6.4).
    func explanation(for record: SPFRecord, context: SPFMacroContext) async -> String? {
        if let spec = record.explanation, let target = await expandDomain(spec.macroString, context: context),
           case .answer(let answer) = await resolver.lookup(target, .txt), answer.records.count == 1,
           case .txt(let strings) = answer.records[0].data,
           let text = await expandExplanation(Array(strings.joined()), context: context) {
            return text
        }
        guard let fallback = options.defaultExplanation else { return nil }
        return await expandExplanation(Array(fallback.utf8), context: context)
    }

    /// Parses explain-string (macro-string and spaces, every macro letter) and expands it.
    func expandExplanation(_ bytes: [UInt8], context: SPFMacroContext) async -> String? {
        guard bytes.allSatisfy({ (0x20...0x7E).contains($0) }),
              let string = try? SPFMacroString(parsing: Substring(String(decoding: bytes, as: UTF8.self)),
                                               allowSpaces: true) else { return nil }
        var context = context
        if string.usesValidatedDomain { context.validatedDomain = await validatedDomain(context) }
        return string.expand(context)
    }
}
