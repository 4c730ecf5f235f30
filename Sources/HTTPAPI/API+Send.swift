import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import MailMessage
import MailStore

extension API {
    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!
    /// Longest accepted `Idempotency-Key`.
    static let maxIdempotencyKeyBytes = 255
    /// JSON and base64 around a message of `max_message_bytes`: the body limit is this much larger.
    static func maxBodyBytes(_ limits: Limits) -> Int { limits.maxMessageBytes / 3 * 4 + 1_048_576 }

    /// `POST /v1/messages`.
    func send(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try authenticate(request, context: context)
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maxBodyBytes(limits))
        } catch {
            throw APIError.tooLarge("The request is larger than [limits] max_message_bytes (\(limits.maxMessageBytes) bytes) allows")
        }
        guard let idempotencyKey = request.headers[Self.idempotencyHeader] else {
            return try await sendOnce(Array(buffer: body), key: key, context: context).response
        }
        guard !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= Self.maxIdempotencyKeyBytes else {
            throw APIError.invalid("Idempotency-Key must be 1 to \(Self.maxIdempotencyKeyBytes) bytes")
        }
        let lock = key.id + "\u{0}" + idempotencyKey
        await idempotency.acquire(lock)
        defer { Task { await idempotency.release(lock) } }
        let now = clock()
        if let stored = try await store.idempotentResponse(keyID: key.id, key: idempotencyKey, notBefore: now.addingTimeInterval(-86_400)) {
            return JSON.bytesResponse(stored.body, status: .init(code: stored.status), extra: ["Idempotent-Replayed": "true"])
        }
        let outcome = try await sendOnce(Array(buffer: body), key: key, context: context)
        // Only answers that mean "done" are kept: a retry after a 5xx or 429 should be tried again.
        if outcome.status.code < 500, outcome.status != .tooManyRequests {
            try await store.saveIdempotentResponse(keyID: key.id, key: idempotencyKey,
                                                   response: StoredResponse(status: Int(outcome.status.code), body: outcome.body),
                                                   at: now)
        }
        return outcome.response
    }

    struct Outcome {
        var status: HTTPResponse.Status
        var body: [UInt8]
        var response: Response { JSON.bytesResponse(body, status: status) }
    }

    /// One send, without the idempotency wrapper; errors become outcomes so that they can be kept.
    func sendOnce(_ body: [UInt8], key: APICredential, context: APIRequestContext) async throws -> Outcome {
        do {
            return try await build(body, key: key, context: context)
        } catch let error as APIError {
            return Outcome(status: error.status, body: error.body)
        }
    }

    func build(_ body: [UInt8], key: APICredential, context: APIRequestContext) async throws -> Outcome {
        let send = try SendRequest.parse(body)
        let sender = bareAddress(send.from)
        try checkEnvelope(send, sender: sender, key: key)
        let now = clock()

        // Recipients in order, once each; suppressed ones are answered and recorded, never sent to.
        var seen: Set<String> = [], recipients: [String] = []
        for address in send.allRecipients.map(bareAddress) where seen.insert(address.lowercased()).inserted {
            recipients.append(address)
        }
        var suppressed: Set<String> = []
        for address in recipients where try await store.suppression(domain: key.domain, address: address) != nil {
            suppressed.insert(address.lowercased())
        }
        let sendTo = recipients.filter { !suppressed.contains($0.lowercased()) }

        var messages: [(recipients: [String], bytes: [UInt8])] = []
        if !sendTo.isEmpty {
            messages = try compose(send, sender: sender, key: key, to: sendTo, now: now)
            if let big = messages.first(where: { $0.bytes.count > limits.maxMessageBytes }) {
                throw APIError.tooLarge("The message is \(big.bytes.count) bytes; [limits] max_message_bytes is \(limits.maxMessageBytes)")
            }
            let day = SQLiteMailStore.day(of: now)
            guard try await store.consumeQuota(keyID: key.id, day: day, count: 1, limit: key.dailyLimit) else {
                throw APIError.quota("API key \(key.id) has sent its daily limit of \(key.dailyLimit ?? 0) messages today (UTC); raise it with apus key create --daily-limit or wait until tomorrow",
                                     retryAfter: Self.secondsToMidnight(now))
            }
        }

        var ids: [String: String] = [:]
        var firstID: String?
        for message in messages {
            switch await submitter.submit(mailFrom: sender, recipients: message.recipients, message: message.bytes,
                                          keyID: key.id, clientAddress: context.remoteAddress,
                                          requireTLS: send.requireTLS) {
            case .success(let id):
                firstID = firstID ?? id
                for r in message.recipients { ids[r.lowercased()] = id }
            case .failure(let error):
                if firstID == nil { throw error }
                context.logger.error("api: part of a per-recipient send failed after others were queued: \(error.message)")
                for r in message.recipients { ids[r.lowercased()] = "" }
            }
        }
        let id = firstID ?? submitter.newMessageID()
        if !suppressed.isEmpty {
            recorder.record(recipients.filter { suppressed.contains($0.lowercased()) }.map {
                NewEvent(type: .suppressed, time: now, messageID: id, recipient: $0, domain: key.domain,
                         detail: ["reason": "on the suppression list of \(key.domain)", "source": "api"], sender: sender)
            })
        }
        context.logger.info("api: key=\(key.id) client=\(context.remoteAddress) id=\(id) from=<\(sender)> queued=\(sendTo.count) suppressed=\(suppressed.count)")
        let list: [[String: String]] = recipients.map { address in
            if suppressed.contains(address.lowercased()) { return ["address": address, "status": "suppressed"] }
            let own = ids[address.lowercased()] ?? id
            return own == id || own.isEmpty ? ["address": address, "status": own.isEmpty ? "failed" : "queued"]
                : ["address": address, "status": "queued", "id": own]
        }
        return Outcome(status: .accepted, body: JSON.encode(["id": id, "recipients": list]))
    }

    /// Sender, recipients and size rules that do not need the message built.
    func checkEnvelope(_ send: SendRequest, sender: String, key: APICredential) throws(APIError) {
        guard Self.looksLikeAddress(sender) else { throw .invalid("Field \"from\" is not an email address: \(send.from)") }
        guard domainOf(sender) == key.domain else {
            throw .forbidden("API key \(key.id) belongs to \(key.domain) and cannot send as \(sender)")
        }
        guard key.allowsSender(sender) else {
            throw .forbidden("API key \(key.id) may not send as \(sender) (see its sender= list in domains/\(key.domain)/api-keys)")
        }
        let all = send.allRecipients
        guard !all.isEmpty else { throw .invalid("No recipients: give at least one address in \"to\", \"cc\" or \"bcc\"") }
        guard all.count <= limits.maxRecipients else {
            throw .invalid("\(all.count) recipients; at most \(limits.maxRecipients) per message ([limits] max_recipients)")
        }
        for (field, list) in [("to", send.to), ("cc", send.cc), ("bcc", send.bcc)] {
            for (i, value) in list.enumerated() where !Self.looksLikeAddress(bareAddress(value)) {
                throw .invalid("Field \"\(field)[\(i)]\" is not an email address: \(value)")
            }
        }
        if send.rawBase64 != nil, send.text != nil || send.html != nil || !send.attachments.isEmpty {
            throw .invalid("Give either \"raw_base64\" or the message parts (text, html, attachments), not both")
        }
        if send.unsubscribe, unsubscribe == nil {
            throw .invalid("\"unsubscribe\": true needs [api] public_url in apus.toml (the base of the unsubscribe link)")
        }
    }

    /// local@domain with no spaces or controls, one @, a dotted domain.
    static func looksLikeAddress(_ s: String) -> Bool {
        guard let at = s.lastIndex(of: "@"), at != s.startIndex, s.utf8.count <= 254 else { return false }
        let domain = s[s.index(after: at)...]
        return !domain.isEmpty && !s.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 || $0 == 127 } == true || $0 == "<" || $0 == ">" })
    }

    static func secondsToMidnight(_ now: Date) -> Int {
        let seconds = Int(now.timeIntervalSince1970) % 86_400
        return 86_400 - seconds
    }
}
