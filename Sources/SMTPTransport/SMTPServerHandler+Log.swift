import Logging
import NIOCore
import SMTPProtocol

/// The one-line-per-refusal log of the SMTP server (DESIGN §4, as Postfix's reject lines): every MAIL,
/// RCPT, DATA or AUTH answered 4xx/5xx gives one `notice` naming the client, its HELO name, the envelope
/// and the reply, e.g.
/// `refused RCPT from 192.0.2.7 helo=client.example from=<a@remote.example> to=<nobody@example.test>: 550 5.1.1 …`.
/// AUTH lines name the mechanism, never the payload.
extension SMTPServerHandler {
    static let loggedVerbs: Set<String> = ["MAIL", "RCPT", "DATA", "BDAT", "AUTH"]

    /// Logs the first 4xx/5xx reply among `actions`, when `verb` is one of `loggedVerbs`.
    /// `verb` and `envelope` are worked out only for a refusal (most lines get none: building them for every
    /// command line cost more than parsing it).
    func logRefusal(_ actions: [SessionAction], verb verbText: @autoclosure () -> String,
                    envelope envelopeText: @autoclosure () -> String) {
        for case .reply(let reply) in actions where reply.code >= 400 {
            let verb = verbText()
            guard Self.loggedVerbs.contains(verb) else { return }
            let envelope = envelopeText()
            let helo = session.clientName.map { " helo=\($0)" } ?? ""
            let what = verb == "AUTH" ? "AUTH \(session.authMechanism ?? "?")" : verb
            let detail = envelope.isEmpty ? "" : " \(envelope)"
            logger.notice("refused \(what) from \(info.remoteAddress)\(helo)\(detail): \(reply)")
            return
        }
    }

    /// The command word of a line, uppercased (`RCPT` for `rcpt to:<a@b>`).
    static func verb(_ line: ByteBuffer) -> String {
        let bytes = line.readableBytesView.prefix(while: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: ":") })
        return String(decoding: bytes.prefix(8), as: UTF8.self).uppercased()
    }

    /// The envelope so far plus what the refused command asked for (`from=` of MAIL, `to=` of RCPT).
    static func envelope(_ known: String, verb: String, line: ByteBuffer) -> String {
        guard verb == "MAIL" || verb == "RCPT" else { return known }
        let text = String(decoding: line.readableBytesView.prefix(600), as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return known }
        let path = text[text.index(after: colon)...].trimmingPrefix(" ").prefix(while: { $0 != " " })
        let printable = String(path.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        let argument = (verb == "MAIL" ? "from=" : "to=") + printable
        return known.isEmpty || verb == "MAIL" ? argument : "\(known) \(argument)"
    }

    /// The reason of a failed AUTH for the log.
    static func reason(_ outcome: AuthOutcome) -> String {
        switch outcome {
        case .success: return "ok"
        case .failure: return "invalid credentials"
        case .refused(let reason): return reason
        case .blocked: return "too many failures from this address"
        case .temporaryFailure: return "temporary failure checking the password"
        }
    }
}
