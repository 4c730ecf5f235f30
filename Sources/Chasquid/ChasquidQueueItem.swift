/// One message in chasquid's queue, `<data_dir>/queue/m:<id>` (chasquid's `queue.proto`, text format):
///
///     ID: "oW55VzNADhk"
///     from: "sender@example.org"
///     To: "fwd@example.com"                     the addresses given in RCPT TO
///     rcpt: {                                   one per final recipient, after alias resolution
///       address: "someone@remote.example"       (a command for PIPE)
///       type: PIPE                              EMAIL (default) | PIPE | FORWARD
///       status: SENT                            PENDING (default) | SENT | FAILED
///       last_failure_message: "…"
///       original_address: "fwd@example.com"
///       via: "smarthost.example"                FORWARD only: the servers to send through
///     }
///     data: "Received: …\nFrom: …\n\nbody\n"    the message, LF line ends
///     created_at_ts: { seconds: 1796505438 nanos: 440125440 }
public struct ChasquidQueueItem: Sendable, Hashable {
    public enum RecipientType: Sendable, Hashable {
        case email, pipe, forward
        case other(String)
    }

    public enum Status: Sendable, Hashable {
        case pending, sent, failed
        case other(String)
    }

    public struct Recipient: Sendable, Hashable {
        public var address: String
        public var type: RecipientType = .email
        public var status: Status = .pending
        public var lastFailureMessage: String = ""
        public var originalAddress: String = ""
        public var via: [String] = []
    }

    public var id: String
    public var from: String
    public var to: [String]
    public var recipients: [Recipient]
    public var data: [UInt8]
    /// Seconds since 1970 of `created_at_ts`, or nil when absent.
    public var createdAt: Int?

    public static func parse(_ bytes: [UInt8]) throws(ProtoTextError) -> ChasquidQueueItem {
        let fields = try ProtoText.parse(bytes)
        guard let id = try fields.single("ID")?.string(), !id.isEmpty else {
            throw ProtoTextError(line: fields.firstLine(or: 1), reason: "a queue item needs an \"ID\"")
        }
        guard let from = try fields.single("from")?.string() else {
            throw ProtoTextError(line: fields.firstLine(or: 1), reason: "queue item \(id) has no \"from\"")
        }
        guard let data = try fields.single("data")?.bytes() else {
            throw ProtoTextError(line: fields.last?.line ?? 1, reason: "queue item \(id) has no \"data\" (the message)")
        }
        var to: [String] = []
        var recipients: [Recipient] = []
        for field in fields {
            switch field.name {
            case "To": to.append(try field.string())
            case "rcpt": recipients.append(try recipient(field))
            default: continue
            }
        }
        var created: Int?
        if let timestamp = try fields.single("created_at_ts")?.message() {
            created = try timestamp.single("seconds")?.integer() ?? 0
        }
        return ChasquidQueueItem(id: id, from: from, to: to, recipients: recipients, data: data, createdAt: created)
    }

    static func recipient(_ field: ProtoTextField) throws(ProtoTextError) -> Recipient {
        let fields = try field.message()
        guard let address = try fields.single("address")?.string() else { throw field.fail("a \"rcpt\" has no \"address\"") }
        var recipient = Recipient(address: address)
        if let type = try fields.single("type")?.enumValue() {
            switch type {
            case "EMAIL", "0": recipient.type = .email
            case "PIPE", "1": recipient.type = .pipe
            case "FORWARD", "2": recipient.type = .forward
            default: recipient.type = .other(type)
            }
        }
        if let status = try fields.single("status")?.enumValue() {
            switch status {
            case "PENDING", "0": recipient.status = .pending
            case "SENT", "1": recipient.status = .sent
            case "FAILED", "2": recipient.status = .failed
            default: recipient.status = .other(status)
            }
        }
        recipient.lastFailureMessage = try fields.single("last_failure_message")?.string() ?? ""
        recipient.originalAddress = try fields.single("original_address")?.string() ?? ""
        recipient.via = try fields.filter { $0.name == "via" }.map { (f: ProtoTextField) throws(ProtoTextError) -> String in try f.string() }
        return recipient
    }
}
