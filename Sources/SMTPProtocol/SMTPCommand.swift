/// SMTP commands (RFC 5321 §4.1.1, RFC 3207 STARTTLS, RFC 4954 AUTH) and their parser.
///
/// `SMTPCommand.parse` takes one command line without its CRLF. It never throws anything but an
/// `SMTPReply` that is ready to send: syntax errors are the client's to fix, and the reply says how.
public enum SMTPCommand: Sendable, Hashable {
    case ehlo(String)
    case helo(String)
    case mail(ReversePath, MailParameters)
    case rcpt(ForwardPath)
    case data
    case rset
    case noop
    case quit
    case vrfy(String)
    case help
    case startTLS
    /// `AUTH mechanism [initial-response]` (RFC 4954 §4); the mechanism is uppercased.
    case auth(mechanism: String, initialResponse: String?)
}

/// ESMTP parameters of MAIL FROM that Apus implements.
public struct MailParameters: Sendable, Hashable {
    public enum Body: String, Sendable { case sevenBit = "7BIT", eightBitMIME = "8BITMIME" }
    public var size: Int?
    public var body: Body?
    public var smtputf8 = false
    /// RFC 4954 §5 `AUTH=<mailbox>|<>`: accepted and not trusted.
    public var auth: String?
    /// RFC 8689 §2 `REQUIRETLS` (no value): every onward hop must be verified TLS with REQUIRETLS, or the
    /// message bounces. The session accepts it only over TLS.
    public var requireTLS = false

    public init(size: Int? = nil, body: Body? = nil, smtputf8: Bool = false, auth: String? = nil,
                requireTLS: Bool = false) {
        self.size = size
        self.body = body
        self.smtputf8 = smtputf8
        self.auth = auth
        self.requireTLS = requireTLS
    }
}

extension SMTPCommand {
    /// Verbs of other protocols that show a client has the wrong port (cross-protocol attacks,
    /// scanners). Answered and the connection closed.
    static let httpVerbs: Set<String> = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE"]

    /// What went wrong with a line that is not a usable command.
    public enum Failure: Error, Sendable, Equatable {
        /// The line is an HTTP request: reply and close.
        case wrongProtocol(SMTPReply)
        case reply(SMTPReply)

        public var reply: SMTPReply {
            switch self {
            case .wrongProtocol(let r), .reply(let r): return r
            }
        }
    }

    /// Parses one command line (without CRLF, as raw bytes).
    public static func parse(_ line: some Collection<UInt8>) -> Result<SMTPCommand, Failure> {
        if line.contains(0) { return .failure(.reply(.c500NulByte)) }
        guard let text = String(validating: line, as: UTF8.self) else {
            return .failure(.reply(SMTPReply(500, EnhancedStatusCode(5, 5, 2), "Command is not valid UTF-8")))
        }
        do throws(SMTPReply) {
            return .success(try parse(text))
        } catch {
            if error.code == 500, error == .c500NotHTTP { return .failure(.wrongProtocol(error)) }
            return .failure(.reply(error))
        }
    }

    public static func parse(_ text: String) throws(SMTPReply) -> SMTPCommand {
        let verbEnd = text.utf8.firstIndex(of: UInt8(ascii: " ")) ?? text.endIndex
        let verb = text[..<verbEnd].uppercased()
        let argument = verbEnd == text.endIndex ? "" : String(text[text.index(after: verbEnd)...])
        switch verb {
        case "EHLO", "HELO":
            let name = argument.trimmingSpaces()
            guard !name.isEmpty, !name.contains(" ") else {
                throw .c501Syntax("Syntax: \(verb) hostname")
            }
            return verb == "EHLO" ? .ehlo(name) : .helo(name)
        case "MAIL":
            return try parseMail(argument)
        case "RCPT":
            return try parseRcpt(argument)
        case "DATA":
            try noArgument(verb, argument)
            return .data
        case "RSET":
            try noArgument(verb, argument)
            return .rset
        case "NOOP":
            return .noop   // RFC 5321 §4.1.1.9: a parameter string is allowed and ignored
        case "QUIT":
            try noArgument(verb, argument)
            return .quit
        case "VRFY":
            guard !argument.trimmingSpaces().isEmpty else { throw .c501Syntax("Syntax: VRFY address") }
            return .vrfy(argument)
        case "HELP":
            return .help
        case "STARTTLS":
            try noArgument(verb, argument)
            return .startTLS
        case "AUTH":
            let parts = argument.split(separator: " ", omittingEmptySubsequences: true)
            guard (1...2).contains(parts.count) else {
                throw .c501Syntax("Syntax: AUTH mechanism [initial-response]")
            }
            return .auth(mechanism: parts[0].uppercased(), initialResponse: parts.count == 2 ? String(parts[1]) : nil)
        default:
            if httpVerbs.contains(verb) { throw .c500NotHTTP }
            throw .c500Unrecognized
        }
    }

    private static func noArgument(_ verb: String, _ argument: String) throws(SMTPReply) {
        guard argument.trimmingSpaces().isEmpty else { throw .c501Syntax("Syntax: \(verb) takes no arguments") }
    }

    /// `MAIL FROM:<reverse-path> [SP Mail-parameters]` (RFC 5321 §4.1.1.2). A space after the
    /// colon is tolerated, as most servers do.
    static func parseMail(_ argument: String) throws(SMTPReply) -> SMTPCommand {
        guard argument.prefix(5).uppercased() == "FROM:" else {
            throw .c501BadSender("Syntax: MAIL FROM:<address> [parameters]")
        }
        var rest = Substring(argument.dropFirst(5))
        while rest.first == " " { rest = rest.dropFirst() }
        // Parameters come first in our parse so SMTPUTF8 decides how strict the path is.
        let (pathText, paramText) = splitPath(rest)
        let params = try MailParameters.parse(paramText)
        if pathText == "<>" { return .mail(.null, params) }
        var grammar = SMTPGrammar(pathText, smtputf8: params.smtputf8)
        let mailbox: Mailbox
        do throws(SMTPReply) {
            mailbox = try grammar.path()
        } catch {
            if error.code == 501 { throw .c501BadSender(error.lines[0]) }
            throw error
        }
        guard grammar.atEnd else { throw .c501BadSender("Unexpected text after the address") }
        guard mailbox.localPart.utf8.count + mailbox.domain.lookupKey.utf8.count + 1 <= SMTPGrammar.maxPathOctets else {
            throw .c501BadSender("Address longer than 256 octets")
        }
        return .mail(.mailbox(mailbox), params)
    }

    /// `RCPT TO:<forward-path>` (RFC 5321 §4.1.1.3). Parameters are not supported (no DSN).
    static func parseRcpt(_ argument: String) throws(SMTPReply) -> SMTPCommand {
        guard argument.prefix(3).uppercased() == "TO:" else {
            throw .c501BadAddress("Syntax: RCPT TO:<address>")
        }
        var rest = Substring(argument.dropFirst(3))
        while rest.first == " " { rest = rest.dropFirst() }
        let (pathText, paramText) = splitPath(rest)
        if let first = paramText.split(separator: " ").first {
            throw .c555UnsupportedParameter(String(first.split(separator: "=")[0]).uppercased())
        }
        if pathText.lowercased() == "<postmaster>" { return .rcpt(.postmaster) }
        var grammar = SMTPGrammar(pathText, smtputf8: true)
        let mailbox = try grammar.path()
        guard grammar.atEnd else { throw .c501BadAddress("Unexpected text after the address") }
        guard mailbox.localPart.utf8.count + mailbox.domain.lookupKey.utf8.count + 1 <= SMTPGrammar.maxPathOctets else {
            throw .c501BadAddress("Address longer than 256 octets")
        }
        return .rcpt(.mailbox(mailbox))
    }

    /// Splits `<path> params` at the `>` that closes the path (quoted strings may hold `>`).
    static func splitPath(_ s: Substring) -> (Substring, Substring) {
        // Over the bytes: the three delimiters are ASCII, so no byte of a multi-byte character matches.
        var inQuotes = false
        var escaped = false
        let utf8 = s.utf8
        var i = utf8.startIndex
        while i < utf8.endIndex {
            let c = utf8[i]
            i = utf8.index(after: i)
            if escaped { escaped = false; continue }
            if c == UInt8(ascii: "\\") && inQuotes { escaped = true; continue }
            if c == UInt8(ascii: "\"") { inQuotes.toggle(); continue }
            if c == UInt8(ascii: ">") && !inQuotes {
                return (s[..<i], s[i...].drop(while: { $0 == " " }))
            }
        }
        return (s, s[s.endIndex...])
    }
}

extension MailParameters {
    /// `esmtp-param *(SP esmtp-param)`, `esmtp-keyword ["=" esmtp-value]` (RFC 5321 §4.1.2).
    static func parse(_ text: Substring) throws(SMTPReply) -> MailParameters {
        var params = MailParameters()
        for item in text.split(separator: " ", omittingEmptySubsequences: true) {
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = kv[0].uppercased()
            let value = kv.count == 2 ? String(kv[1]) : nil
            switch key {
            case "SIZE":
                guard let value, let n = Int(value), n >= 0, value.count <= 20 else {
                    throw .c501Syntax("SIZE needs a number of bytes")
                }
                params.size = n
            case "BODY":
                guard let value, let body = Body(rawValue: value.uppercased()) else {
                    throw .c555UnsupportedParameter("BODY=\(value ?? "") (use 7BIT or 8BITMIME)")
                }
                params.body = body
            case "SMTPUTF8":
                guard value == nil else { throw .c501Syntax("SMTPUTF8 takes no value") }
                params.smtputf8 = true
            case "AUTH":
                guard let value, !value.isEmpty else { throw .c501Syntax("AUTH= needs a value") }
                params.auth = value
            case "REQUIRETLS":
                // RFC 8689 §2: "No value is associated with this parameter."
                guard value == nil else { throw .c501Syntax("REQUIRETLS takes no value") }
                params.requireTLS = true
            default:
                throw .c555UnsupportedParameter(key)
            }
        }
        return params
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        // Over the UTF-8 view (space and tab are single bytes): reversing a string by characters and back
        // cost 50,000 instructions for an EHLO name.
        let text = String(self)
        let utf8 = text.utf8
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = utf8.firstIndex(where: { !isBlank($0) }) else { return "" }
        let end = utf8.index(after: utf8.lastIndex(where: { !isBlank($0) })!)   // a blank byte or the end
        return String(text[first..<end])
    }
}
