import Foundation
import NIOCore

/// SASL in SMTP (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms, both with an initial
/// response on the AUTH line and with challenges (`334`).
extension SMTPSession {
    static let loginUsernameChallenge = "VXNlcm5hbWU6"   // base64("Username:")
    static let loginPasswordChallenge = "UGFzc3dvcmQ6"   // base64("Password:")

    mutating func auth(mechanism: String, initialResponse: String?) -> [SessionAction] {
        guard clientName != nil, esmtp else { return fail(.c503BadSequence("Send EHLO first")) }
        guard tlsActive else {
            return fail(configuration.tlsAvailable ? .c538EncryptionRequired : .c530MustStartTLS)
        }
        guard authenticatedUser == nil else { return fail(.c503BadSequence("Already authenticated")) }
        guard transaction == nil else { return fail(.c503BadSequence("AUTH is not allowed inside a mail transaction")) }
        authMechanism = mechanism
        switch mechanism {
        case "PLAIN":
            guard let initialResponse else {
                phase = .authPlainResponse
                return [.reply(SMTPReply(334, nil, ""))]
            }
            return plainCredentials(initialResponse)
        case "LOGIN":
            // LOGIN has no initial response by its draft, but many clients send the username.
            guard let initialResponse else {
                phase = .authLoginUsername
                return [.reply(SMTPReply(334, nil, Self.loginUsernameChallenge))]
            }
            return loginUsername(initialResponse)
        default:
            return fail(.c504UnknownMechanism)
        }
    }

    mutating func authResponse(_ line: ByteBuffer) -> [SessionAction] {
        let text = String(decoding: line.readableBytesView, as: UTF8.self)
        let current = phase
        phase = .command
        if text == "*" { return fail(.c501AuthCancelled) }   // RFC 4954 §4
        switch current {
        case .authPlainResponse: return plainCredentials(text)
        case .authLoginUsername: return loginUsername(text)
        case .authLoginPassword(let username):
            guard let password = Self.decodeBase64(text) else { return fail(.c501BadBase64) }
            return verify(username: username, password: password)
        default: return []
        }
    }

    /// PLAIN: base64(authzid NUL authcid NUL passwd), RFC 4616 §2. "=" is an empty response.
    mutating func plainCredentials(_ response: String) -> [SessionAction] {
        guard let decoded = response == "=" ? "" : Self.decodeBase64(response) else { return fail(.c501BadBase64) }
        let parts = decoded.split(separator: "\0", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            return fail(SMTPReply(501, EnhancedStatusCode(5, 5, 2), "Malformed PLAIN response"))
        }
        let authzid = String(parts[0]), authcid = String(parts[1]), password = String(parts[2])
        // Acting for another identity is not supported: authzid must be empty or the same user.
        if !authzid.isEmpty && authzid != authcid {
            return fail(.c535AuthFailed)
        }
        return verify(username: authcid, password: password)
    }

    mutating func loginUsername(_ response: String) -> [SessionAction] {
        guard let username = Self.decodeBase64(response) else { return fail(.c501BadBase64) }
        phase = .authLoginPassword(username: username)
        return [.reply(SMTPReply(334, nil, Self.loginPasswordChallenge))]
    }

    mutating func verify(username: String, password: String) -> [SessionAction] {
        guard !username.isEmpty else { return fail(.c535AuthFailed) }
        phase = .waiting
        return [.verifyCredentials(username: username, password: password)]
    }

    /// The shell checked the credentials.
    public mutating func authChecked(_ outcome: AuthOutcome) -> [SessionAction] {
        if phase == .waiting { phase = .command }
        switch outcome {
        case .success(let user):
            setAuthenticated(user)
            return [.reply(.c235AuthSucceeded)]
        case .failure, .refused:
            return fail(.c535AuthFailed)
        case .blocked:
            return fail(.c454AuthBlocked)
        case .temporaryFailure:
            return fail(.c454AuthTemporaryFailure)
        }
    }

    static func decodeBase64(_ text: String) -> String? {
        guard let data = Data(base64Encoded: text) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// The line as it may appear in a log: AUTH payloads and exchange lines are redacted.
    public func loggable(_ line: ByteBuffer) -> String {
        if expectsSecret { return "[redacted]" }
        let text = String(decoding: line.readableBytesView.prefix(300), as: UTF8.self)
        let upper = text.uppercased()
        if upper.hasPrefix("AUTH ") {
            let parts = text.split(separator: " ")
            return parts.count > 2 ? "\(parts[0]) \(parts[1]) [redacted]" : text
        }
        return text
    }
}
