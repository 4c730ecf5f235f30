/// Why `MIMEBuilder` (or `Mailbox.parse`) refused a message: `field` names the part of the request to change,
/// in the send API's JSON spelling (`from`, `to[1]`, `subject`, `headers.X-Tag`, `attachments[0].filename`…).
public struct MIMEBuildError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
