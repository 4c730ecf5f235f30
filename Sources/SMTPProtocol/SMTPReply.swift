import NIOCore

/// An SMTP reply (RFC 5321 §4.2): a three-digit code, an enhanced status code (RFC 2034/3463) and text.
///
/// Replies are values; the named constants below are the ones the server sends, so that `grep 550`
/// finds every place a code is produced. Texts are plain and say what to do.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible, Error {
    public let code: Int
    public let status: EnhancedStatusCode?
    public let lines: [String]

    public init(_ code: Int, _ status: EnhancedStatusCode?, _ text: String) {
        self.init(code, status, lines: [text])
    }

    public init(_ code: Int, _ status: EnhancedStatusCode?, lines: [String]) {
        precondition((200...599).contains(code), "SMTP reply code out of range")
        self.code = code
        self.status = status
        self.lines = lines.isEmpty ? [""] : lines
    }

    /// 2yz and 3yz are positive; 4yz transient; 5yz permanent (RFC 5321 §4.2.1).
    public var isPositive: Bool { code < 400 }
    public var isTransient: Bool { (400..<500).contains(code) }
    public var isPermanent: Bool { code >= 500 }

    /// The wire form: `250-first`, …, `250 last`, each ending in CRLF. The enhanced code is
    /// repeated on every line, as RFC 2034 §4 asks.
    public var wireText: String {
        var buffer = ByteBuffer()
        writeWire(into: &buffer)
        return String(buffer: buffer)
    }

    /// `wireText` written straight into `buffer`, without building a string first (every reply the server
    /// sends goes through here).
    /// Each line in one step into the buffer's memory (a `writeInteger` per byte cost 3,000 instructions a reply).
    public func writeWire(into buffer: inout ByteBuffer) {
        let statusLength = status?.wireLength ?? 0
        for (i, line) in lines.enumerated() {
            let separator = i == lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-")
            let space = status != nil && !line.isEmpty ? 1 : 0
            let length = 4 + statusLength + space + line.utf8.count + 2
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
                out[0] = UInt8(ascii: "0") + UInt8(code / 100)
                out[1] = UInt8(ascii: "0") + UInt8(code / 10 % 10)
                out[2] = UInt8(ascii: "0") + UInt8(code % 10)
                out[3] = separator
                var at = 4
                if let status {
                    at += status.write(to: out, at: at)
                    if space == 1 { out[at] = UInt8(ascii: " "); at += 1 }
                }
                for byte in line.utf8 { out[at] = byte; at += 1 }
                out[at] = UInt8(ascii: "\r")
                out[at + 1] = UInt8(ascii: "\n")
                return at + 2
            }
        }
    }

    /// One line for logs: `550 5.1.1 text` (multi-line replies joined with ` | `).
    public var description: String {
        let text = lines.joined(separator: " | ")
        if let status { return "\(code) \(status) \(text)" }
        return "\(code) \(text)"
    }
}

// MARK: - Named replies. The constant's name contains its code.
extension SMTPReply {
    public static func c220Greeting(_ hostname: String) -> SMTPReply {
        SMTPReply(220, nil, "\(hostname) ESMTP Apus ready")
    }
    public static func c221Bye(_ hostname: String) -> SMTPReply {
        SMTPReply(221, EnhancedStatusCode(2, 0, 0), "\(hostname) closing connection, goodbye")
    }
    public static let c250Ok = SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok")
    public static let c250SenderOk = SMTPReply(250, EnhancedStatusCode(2, 1, 0), "Sender ok")
    public static let c250RecipientOk = SMTPReply(250, EnhancedStatusCode(2, 1, 5), "Recipient ok")
    public static let c250ResetOk = SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Reset ok")
    public static func c250Queued(_ id: String) -> SMTPReply {
        SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok: queued as \(id)")
    }
    public static let c214Help = SMTPReply(214, EnhancedStatusCode(2, 0, 0), lines: [
        "Apus SMTP server. Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH",
        "See RFC 5321; mail for this server's domains is accepted, other mail needs AUTH.",
    ])
    public static let c220ReadyForTLS = SMTPReply(220, EnhancedStatusCode(2, 0, 0), "Ready to start TLS")
    public static let c235AuthSucceeded = SMTPReply(235, EnhancedStatusCode(2, 7, 0), "Authentication successful")
    public static let c252CannotVerify = SMTPReply(252, EnhancedStatusCode(2, 5, 2),
        "Cannot VRFY user, but will accept the message and attempt delivery")
    public static let c354StartInput = SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>")

    public static func c421Closing(_ hostname: String, _ why: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 3, 2), "\(hostname) \(why), closing connection")
    }
    public static func c421Timeout(_ hostname: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 4, 2), "\(hostname) timeout exceeded, closing connection")
    }
    public static func c421TooManyErrors(_ hostname: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 7, 0), "\(hostname) too many errors, closing connection")
    }
    public static func c421TooManyConnections(_ hostname: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 7, 0), "\(hostname) too many connections, try again later")
    }
    public static let c451LocalError = SMTPReply(451, EnhancedStatusCode(4, 3, 0),
        "Local error while storing the message; it was not accepted, try again later")
    /// RFC 3463 X.3.1 (mail system full): the queue's disk is (nearly) full.
    public static let c452InsufficientStorage = SMTPReply(452, EnhancedStatusCode(4, 3, 1),
        "Insufficient system storage; try again later")
    public static let c452TooManyRecipients = SMTPReply(452, EnhancedStatusCode(4, 5, 3),
        "Too many recipients in this transaction; send the rest in another one")
    public static let c454TLSUnavailable = SMTPReply(454, EnhancedStatusCode(4, 7, 0),
        "TLS not available: no certificate is configured")
    public static let c454AuthBlocked = SMTPReply(454, EnhancedStatusCode(4, 7, 0),
        "Too many failed authentications from your address; try again later")
    public static let c454AuthTemporaryFailure = SMTPReply(454, EnhancedStatusCode(4, 7, 0),
        "Temporary authentication failure; try again later")

    public static let c500LineTooLong = SMTPReply(500, EnhancedStatusCode(5, 5, 2), "Line too long")
    public static let c500NulByte = SMTPReply(500, EnhancedStatusCode(5, 5, 2), "NUL byte in command")
    public static let c500Unrecognized = SMTPReply(500, EnhancedStatusCode(5, 5, 1), "Command not recognized")
    public static let c500NotHTTP = SMTPReply(500, EnhancedStatusCode(5, 5, 1),
        "This is an SMTP server, not a web server")
    public static func c501Syntax(_ text: String) -> SMTPReply { SMTPReply(501, EnhancedStatusCode(5, 5, 4), text) }
    public static func c501BadAddress(_ text: String) -> SMTPReply { SMTPReply(501, EnhancedStatusCode(5, 1, 3), text) }
    public static func c501BadSender(_ text: String) -> SMTPReply { SMTPReply(501, EnhancedStatusCode(5, 1, 7), text) }
    public static let c501AuthCancelled = SMTPReply(501, EnhancedStatusCode(5, 7, 0), "Authentication cancelled")
    public static let c501BadBase64 = SMTPReply(501, EnhancedStatusCode(5, 5, 2), "Invalid base64 in authentication data")
    public static let c502NotImplemented = SMTPReply(502, EnhancedStatusCode(5, 5, 1), "Command not implemented")
    public static func c503BadSequence(_ text: String) -> SMTPReply { SMTPReply(503, EnhancedStatusCode(5, 5, 1), text) }
    public static let c504UnknownMechanism = SMTPReply(504, EnhancedStatusCode(5, 5, 4),
        "Unrecognized authentication mechanism; use PLAIN or LOGIN")
    public static let c530MustStartTLS = SMTPReply(530, EnhancedStatusCode(5, 7, 0), "Must issue a STARTTLS command first")
    /// RFC 8689 sets no code for REQUIRETLS over plaintext; RFC 3207's 530 with RFC 5248's X.7.10
    /// ("Encryption needed").
    public static let c530RequireTLSNeedsTLS = SMTPReply(530, EnhancedStatusCode(5, 7, 10),
                                                         "REQUIRETLS needs a TLS session; issue STARTTLS first")
    public static let c530AuthRequired = SMTPReply(530, EnhancedStatusCode(5, 7, 0), "Authentication required")
    public static let c535AuthFailed = SMTPReply(535, EnhancedStatusCode(5, 7, 8), "Authentication credentials invalid")
    public static let c538EncryptionRequired = SMTPReply(538, EnhancedStatusCode(5, 7, 11),
        "Encryption required for requested authentication mechanism; use STARTTLS first")
    public static func c550NoSuchUser(_ address: String) -> SMTPReply {
        SMTPReply(550, EnhancedStatusCode(5, 1, 1), "<\(address)>: no such user here")
    }
    public static func c550RelayDenied(_ domain: String) -> SMTPReply {
        SMTPReply(550, EnhancedStatusCode(5, 7, 1),
                  "Relaying denied: \(domain) is not a local domain; authenticate to send elsewhere")
    }
    public static func c550SenderNotOwned(_ address: String) -> SMTPReply {
        SMTPReply(550, EnhancedStatusCode(5, 7, 1), "Sender <\(address)> is not owned by the authenticated user")
    }
    public static let c550BareLineEnding = SMTPReply(550, EnhancedStatusCode(5, 5, 2),
        "Message rejected: bare CR or LF in DATA; lines must end with CRLF")
    public static func c552TooBig(_ max: Int) -> SMTPReply {
        SMTPReply(552, EnhancedStatusCode(5, 3, 4), "Message too big; the limit is \(max) bytes")
    }
    public static let c553SMTPUTF8Required = SMTPReply(553, EnhancedStatusCode(5, 6, 7),
        "Non-ASCII address requires the SMTPUTF8 parameter on MAIL")
    public static let c554NoValidRecipients = SMTPReply(554, EnhancedStatusCode(5, 5, 1), "No valid recipients")
    public static func c555UnsupportedParameter(_ name: String) -> SMTPReply {
        SMTPReply(555, EnhancedStatusCode(5, 5, 4), "Unsupported parameter \(name)")
    }
}
