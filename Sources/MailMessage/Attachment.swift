/// A file attached to an `OutgoingMessage`: sent base64-encoded in its own part of a `multipart/mixed` body,
/// with `Content-Disposition: attachment` and its name (RFC 2231 when it is not short ASCII).
public struct Attachment: Sendable, Hashable {
    /// The name the recipient sees; any Unicode, no control characters.
    public var filename: String
    /// `type/subtype` (RFC 2045 §5.1 tokens), without parameters, e.g. `application/pdf`.
    public var contentType: String
    public var data: [UInt8]

    public init(filename: String, contentType: String = "application/octet-stream", data: [UInt8]) {
        self.filename = filename
        self.contentType = contentType
        self.data = data
    }
}
