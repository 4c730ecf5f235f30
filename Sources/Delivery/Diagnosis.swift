import SMTPProtocol

/// One plain sentence on what a refusal means and what to fix, for the codes the big receivers publish
/// (`DiagnosisTable`) and the generic classes (unknown user, mailbox full, policy). Shown in `apus queue
/// show` (`diagnosis:`), the DSN's text part, the delivery log line (`diagnosis="…"`) and
/// `DeliveryEvent.diagnosis`. Pure: everything it says comes from its arguments.
public enum Diagnosis {
    /// What the sentence may name: our host name (the PTR target) and the address we sent from.
    public struct Context: Sendable, Hashable {
        public var hostname: String
        /// Our IP address on the connection that got the reply; nil when unknown.
        public var sourceAddress: String?
        /// The provider the MX host matched (`[delivery.providers.NAME]`), if any.
        public var provider: String?

        public init(hostname: String, sourceAddress: String? = nil, provider: String? = nil) {
            self.hostname = hostname
            self.sourceAddress = sourceAddress
            self.provider = provider
        }

        /// "203.0.113.7", or words for it when unknown.
        var ip: String { sourceAddress ?? "this server's sending IP" }
    }

    /// The sentence for a result, nil for a success or a reply nobody has explained.
    public static func explain(_ result: RecipientResult, hostname: String) -> String? {
        guard result.outcome != .sent else { return nil }
        return explain(status: result.status, reply: result.reply,
                       context: Context(hostname: hostname, sourceAddress: result.sourceAddress, provider: result.provider))
    }

    /// The first row of `DiagnosisTable.rows` whose status and text marker match `reply`.
    public static func explain(status: EnhancedStatusCode?, reply: String, context: Context) -> String? {
        let text = reply.lowercased()
        for row in DiagnosisTable.rows {
            if let wanted = row.status, wanted != status?.description { continue }
            if let marker = row.marker, !text.contains(marker) { continue }
            if let provider = row.provider, !Self.isFrom(provider, text: text, context: context) { continue }
            return row.sentence(context)
        }
        return nil
    }

    /// Whether the reply came from `provider`: the MX host matched it, or its reply carries the provider's
    /// usual signature (Gmail ends every reply with "gsmtp").
    static func isFrom(_ provider: String, text: String, context: Context) -> Bool {
        if context.provider == provider { return true }
        switch provider {
        case "gmail": return text.contains("gsmtp") || text.contains("google.com")
        case "outlook": return text.contains("outlook") || text.contains("protection.outlook.com") || text.contains("hotmail")
        case "yahoo": return text.contains("yahoo")
        default: return false
        }
    }
}
