import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import MailStore

extension API {
    /// `GET /v1/messages/{id}`: the message's recipients with their status, last reply and events. Only
    /// messages of the key's domain are visible (another domain's id answers 404, as a missing one).
    func getMessage(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try authenticate(request, context: context)
        let id = try context.parameters.require("id")
        await recorder.flush()
        guard let message = try await store.message(id: id), message.domain == key.domain else {
            throw APIError.notFound("No message \(id) for \(key.domain)")
        }
        let events = try await store.events(EventQuery(limit: 1000, messageID: id))
        let recipients: [[String: Any]] = message.recipients.map { r in
            [
                "address": r.address, "status": r.status, "last_reply": r.lastReply ?? NSNull(),
                "events": events.filter { $0.event.recipient.lowercased() == r.address.lowercased() }.map(Self.json),
            ]
        }
        return JSON.response(["id": message.id, "from": message.sender, "created": JSON.time(message.created),
                              "recipients": recipients])
    }

    /// `GET /v1/events?after=CURSOR&limit=N&type=T`: the key's domain's events in id order. `next` is the cursor
    /// for the following page (the same cursor when nothing newer exists).
    func listEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try authenticate(request, context: context)
        let limit = try Self.intParameter(request, "limit", default: 100, range: 1...1000)
        let after = try Self.intParameter(request, "after", default: 0, range: 0...Int.max)
        var types: Set<EventType> = []
        for value in request.uri.queryParameters.getAll("type") {
            // An empty value (`type=`, `type=a,,b`) is an error, not "no filter": the schema's enum has no "".
            for name in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let type = EventType(rawValue: String(name)) else {
                    if name.isEmpty {
                        throw APIError.invalid("Empty event type in \"type=\(value)\"; one of: \(EventType.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    throw APIError.invalid("Unknown event type \"\(name)\"; one of: \(EventType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                types.insert(type)
            }
        }
        await recorder.flush()
        let recipient = request.uri.queryParameters["recipient"].map(String.init)
        let events = try await store.events(EventQuery(after: Int64(after), limit: limit, types: types,
                                                       recipient: recipient, domain: key.domain))
        let next = events.last.map { String($0.id) } ?? String(after)
        return JSON.response(["events": events.map(Self.json), "next": next])
    }

    /// An event in the API's shape (DESIGN §3c).
    public static func json(_ stored: StoredEvent) -> [String: Any] {
        let e = stored.event
        return ["id": stored.id, "type": e.type.rawValue, "time": JSON.time(e.time), "message_id": e.messageID,
                "recipient": e.recipient, "detail": e.detail]
    }

    /// The event as one JSON line (webhooks, `apus events --json`).
    public static func jsonBytes(_ stored: StoredEvent) -> [UInt8] { JSON.encode(json(stored)) }
}
