import NIOCore

extension SMTPSession {
    mutating func handle(_ command: SMTPCommand) -> [SessionAction] {
        switch command {
        case .ehlo(let name):
            setGreeted(name, esmtp: true)
            return [.reply(ehloReply(name))]
        case .helo(let name):
            setGreeted(name, esmtp: false)
            return [.reply(SMTPReply(250, nil, "\(configuration.hostname) Hello \(name)"))]
        case .mail(let path, let params):
            return mail(path, params)
        case .rcpt(let path):
            return rcpt(path)
        case .data:
            return data()
        case .rset:
            transaction = nil
            return [.reply(.c250ResetOk)]
        case .noop:
            return [.reply(.c250Ok)]
        case .quit:
            phase = .closed
            return [.reply(.c221Bye(configuration.hostname)), .close]
        case .vrfy:
            // RFC 5321 §3.5.3: 252 when we will not confirm addresses (harvesting protection).
            return [.reply(.c252CannotVerify)]
        case .help:
            return [.reply(.c214Help)]
        case .startTLS:
            return startTLS()
        case .auth(let mechanism, let initial):
            return auth(mechanism: mechanism, initialResponse: initial)
        }
    }

    /// EHLO capabilities (RFC 5321 §4.1.1.1). STARTTLS only before TLS, AUTH only under TLS.
    func ehloReply(_ name: String) -> SMTPReply {
        var lines = ["\(configuration.hostname) Hello \(name)"]
        lines.append("PIPELINING")                                   // RFC 2920
        lines.append("SIZE \(configuration.maxMessageBytes)")        // RFC 1870
        lines.append("8BITMIME")                                     // RFC 6152
        lines.append("SMTPUTF8")                                     // RFC 6531
        lines.append("ENHANCEDSTATUSCODES")                          // RFC 2034
        if !tlsActive && configuration.tlsAvailable { lines.append("STARTTLS") }  // RFC 3207
        if tlsActive { lines.append("REQUIRETLS") }                  // RFC 8689 §2: only over TLS
        if tlsActive && authenticatedUser == nil { lines.append("AUTH PLAIN LOGIN") } // RFC 4954
        return SMTPReply(250, nil, lines: lines)
    }

    mutating func startTLS() -> [SessionAction] {
        if tlsActive { return fail(.c503BadSequence("TLS is already active")) }
        guard configuration.tlsAvailable else { return fail(.c454TLSUnavailable) }
        if transaction != nil { return fail(.c503BadSequence("STARTTLS is not allowed inside a mail transaction")) }
        resetForTLS()
        phase = .waiting
        return [.reply(.c220ReadyForTLS), .startTLS]
    }

    /// The TLS handshake after STARTTLS (or on port 465) completed.
    public mutating func tlsEstablished() -> [SessionAction] {
        tlsActive = true
        if phase == .waiting { phase = .command }
        return []
    }

    mutating func mail(_ path: ReversePath, _ params: MailParameters) -> [SessionAction] {
        guard clientName != nil else { return fail(.c503BadSequence("Send EHLO or HELO first")) }
        guard transaction == nil else { return fail(.c503BadSequence("Nested MAIL command; send RSET first")) }
        if configuration.listener.requiresAuth {
            guard tlsActive else { return fail(.c530MustStartTLS) }
            guard authenticatedUser != nil else { return fail(.c530AuthRequired) }
        }
        if params.smtputf8 && !esmtp { return fail(.c503BadSequence("SMTPUTF8 needs EHLO")) }
        if !esmtp && (params.size != nil || params.body != nil || params.auth != nil || params.requireTLS) {
            // RFC 5321 §4.1.1.1: service extensions exist only in a session opened with EHLO.
            return fail(SMTPReply(555, EnhancedStatusCode(5, 5, 4), "MAIL parameters need EHLO, not HELO"))
        }
        // RFC 8689 §2: REQUIRETLS "MUST only be specified in the context of an SMTP session" that uses TLS.
        if params.requireTLS && !tlsActive { return fail(.c530RequireTLSNeedsTLS) }
        if let size = params.size, size > configuration.maxMessageBytes {
            return fail(.c552TooBig(configuration.maxMessageBytes))
        }
        if let refusal = policy.checkSender(path, authenticatedUser: authenticatedUser) {
            return fail(refusal)
        }
        if authenticatedUser == nil && configuration.checkSenders {
            // Unauthenticated mail: SPF and friends decide before the 250 (DESIGN.md §4).
            pendingMail = Transaction(mailFrom: path, parameters: params)
            phase = .waiting
            return [.checkSender(path, heloName: clientName ?? "")]
        }
        transaction = Transaction(mailFrom: path, parameters: params)
        return [.reply(.c250SenderOk)]
    }

    /// The shell checked the sender of the pending MAIL command.
    public mutating func senderChecked(_ verdict: SenderVerdict) -> [SessionAction] {
        if phase == .waiting { phase = .command }
        guard var tx = pendingMail else { return [] }
        pendingMail = nil
        if let refusal = verdict.refusal { return fail(refusal) }
        tx.traceFields = verdict.traceFields
        tx.annotations = verdict.annotations
        transaction = tx
        return [.reply(.c250SenderOk)]
    }

    mutating func rcpt(_ path: ForwardPath) -> [SessionAction] {
        guard var tx = transaction else { return fail(.c503BadSequence("Need MAIL before RCPT")) }
        guard tx.recipients.count < configuration.maxRecipients else {
            // RFC 5321 §4.5.3.1.10: 452 and the client sends the rest later. Not counted as an error.
            return [.reply(.c452TooManyRecipients)]
        }
        if case .mailbox(let m) = path, m.needsSMTPUTF8, !tx.parameters.smtputf8 {
            return fail(.c553SMTPUTF8Required)
        }
        if let refusal = policy.checkRecipient(path, authenticatedUser: authenticatedUser) {
            return fail(refusal)
        }
        if !tx.recipients.contains(path) { tx.recipients.append(path) }
        transaction = tx
        return [.reply(.c250RecipientOk)]
    }

    mutating func data() -> [SessionAction] {
        guard let tx = transaction else { return fail(.c503BadSequence("Need MAIL and RCPT before DATA")) }
        // RFC 2920 §3.1: with pipelining, DATA after only failed RCPTs gets 554.
        guard !tx.recipients.isEmpty else { return fail(.c554NoValidRecipients) }
        phase = .data
        return [.reply(.c354StartInput), .receiveData(maxBytes: configuration.maxMessageBytes, declaredSize: tx.parameters.size)]
    }

    /// The DATA decoder found the end of the message.
    public mutating func dataReceived(_ outcome: DataDecoder.Outcome) -> [SessionAction] {
        guard phase == .data, let tx = transaction else { return [] }
        transaction = nil
        phase = .command
        if outcome.oversized { return fail(.c552TooBig(configuration.maxMessageBytes)) }
        if outcome.violation != nil { return fail(.c550BareLineEnding) }
        var envelope = Envelope(mailFrom: tx.mailFrom, recipients: tx.recipients, parameters: tx.parameters,
                                clientName: clientName ?? "unknown", authenticatedUser: authenticatedUser,
                                protocolName: protocolNameFor(tx))
        envelope.traceFields = tx.traceFields
        envelope.annotations = tx.annotations
        phase = .waiting
        return [.enqueue(envelope, outcome.message)]
    }

    func protocolNameFor(_ tx: Transaction) -> String {
        let base = tx.parameters.smtputf8 ? "UTF8SMTP" : (esmtp ? "ESMTP" : "SMTP")
        return base + (tlsActive ? "S" : "") + (authenticatedUser != nil ? "A" : "")
    }

    /// The message and envelope are on stable storage under `id`.
    public mutating func enqueued(id: String) -> [SessionAction] {
        if phase == .waiting { phase = .command }
        return [.reply(.c250Queued(id))]
    }

    /// Storing failed; the client must retry (nothing was accepted).
    public mutating func enqueueFailed(_ reply: SMTPReply = .c451LocalError) -> [SessionAction] {
        if phase == .waiting { phase = .command }
        return [.reply(reply)]
    }
}
