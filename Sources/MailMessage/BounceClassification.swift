/// What a permanent delivery failure says about the recipient (DESIGN §4, issue 13): whether the mailbox
/// is gone for good (suppress it), or the refusal is about the sender or the content (never suppress: fix
/// the sending instead).
///
/// Enhanced status codes (RFC 3463 §3.2): X.1.1 bad destination mailbox, X.1.2 bad destination system,
/// X.1.10 null MX (RFC 7505), X.2.1 mailbox disabled. Some receivers answer a bare `550` with a text only;
/// the texts below are the common ones ("user unknown", "no such user", "does not exist"…).
public enum BounceClassification: String, Sendable, Hashable, CaseIterable {
    /// The address does not exist or is disabled: suppress it.
    case mailboxGone
    /// Full mailbox, over quota (X.2.2): may recover; not suppressed.
    case mailboxFull
    /// Policy, reputation, authentication or content (X.7.x): the sender's problem.
    case policy
    /// Anything else.
    case other

    static let goneCodes: Set<String> = ["5.1.1", "5.1.2", "5.1.10", "5.2.1", "5.1.0", "5.1.6"]
    static let goneTexts = [
        "user unknown", "unknown user", "no such user", "no such mailbox", "mailbox not found", "does not exist",
        "doesn't exist", "unknown recipient", "recipient unknown", "invalid recipient", "recipient address rejected: user unknown",
        "mailbox unavailable", "address rejected", "no mailbox here", "account has been disabled", "account is disabled",
        "user not found", "recipient not found", "mailbox is disabled", "not a valid mailbox",
    ]

    /// `status`: the enhanced status code when known ("5.1.1"); `reply`: the reply line.
    public static func classify(status: String?, reply: String) -> BounceClassification {
        let code = status ?? Self.status(in: reply)
        if let code {
            if code.hasPrefix("5.7.") || code.hasPrefix("4.7.") { return .policy }
            if goneCodes.contains(code) { return .mailboxGone }
            if code == "5.2.2" || code == "4.2.2" { return .mailboxFull }
        }
        let text = reply.lowercased()
        guard text.hasPrefix("5") || code?.hasPrefix("5") == true else { return .other }
        if text.contains("spam") || text.contains("policy") || text.contains("blocked") || text.contains("dmarc")
            || text.contains("spf") || text.contains("dkim") || text.contains("reputation") { return .policy }
        if goneTexts.contains(where: text.contains) { return .mailboxGone }
        if text.contains("quota") || text.contains("mailbox full") || text.contains("mailbox is full") { return .mailboxFull }
        return .other
    }

    /// The first `d.d.d` code among the first words of a reply.
    static func status(in reply: String) -> String? {
        for word in reply.split(separator: " ").prefix(4) {
            let parts = word.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 3, parts[0].count == 1, "245".contains(parts[0]),
               parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }) {
                return String(word)
            }
        }
        return nil
    }
}
