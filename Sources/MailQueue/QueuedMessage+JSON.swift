import Foundation

/// The envelope line of a queue file, written by hand: the bytes `JSONEncoder` makes of this struct with
/// sorted keys, unescaped slashes and dates as seconds since 1970 (what `FileSpool` decodes), at a tenth of
/// its cost — the encoder's boxing of every field was 1.5% of the server's time under load, for one line
/// per message. `QueuedMessageJSONTests` compares the two byte for byte.
extension QueuedMessage {
    public func jsonLine() -> [UInt8] {
        var out = JSONWriter()
        out.open("{")
        if let authenticatedUser { out.key("authenticatedUser"); out.string(authenticatedUser) }
        out.key("clientAddress"); out.string(clientAddress)
        out.key("clientName"); out.string(clientName)
        if let delayWarningSent { out.key("delayWarningSent"); out.date(delayWarningSent) }
        out.key("id"); out.string(id)
        out.key("mailFrom"); out.string(mailFrom)
        if let nextAttempt { out.key("nextAttempt"); out.date(nextAttempt) }
        out.key("receivedAt"); out.date(receivedAt)
        out.key("recipients")
        out.open("[")
        for recipient in recipients {
            out.separate()
            recipient.write(to: &out)
        }
        out.close("]")
        if let requireTLS { out.key("requireTLS"); out.bool(requireTLS) }
        out.key("size"); out.int(size)
        out.key("smtputf8"); out.bool(smtputf8)
        out.close("}")
        return out.bytes
    }
}

extension QueuedMessage.Recipient {
    func write(to out: inout JSONWriter) {
        out.open("{")
        out.key("address"); out.string(address)
        out.key("attempts"); out.int(attempts)
        if let command { out.key("command"); out.string(command) }
        if let diagnosis { out.key("diagnosis"); out.string(diagnosis) }
        if let lastReply { out.key("lastReply"); out.string(lastReply) }
        if let lastStatus { out.key("lastStatus"); out.string(lastStatus) }
        if let mailFrom { out.key("mailFrom"); out.string(mailFrom) }
        out.key("original"); out.string(original)
        if let provider { out.key("provider"); out.string(provider) }
        if let remoteMTA { out.key("remoteMTA"); out.string(remoteMTA) }
        if let route { out.key("route"); out.string(route.rawValue) }
        out.key("state"); out.string(state.rawValue)
        out.close("}")
    }
}
