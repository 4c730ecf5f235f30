import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import MailStore

extension API {
    /// `GET /v1/suppressions?limit=&after=`: the key's domain's list, in address order.
    func listSuppressions(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try authenticate(request, context: context)
        let limit = try Self.intParameter(request, "limit", default: 100, range: 1...1000)
        let after = request.uri.queryParameters["after"].map { "\(key.domain)\u{0}\($0.lowercased())" }
        let entries = try await store.suppressions(domain: key.domain, after: after, limit: limit)
        var body: [String: Any] = ["suppressions": entries.map(Self.json)]
        if entries.count == limit, let last = entries.last { body["next"] = last.address }
        return JSON.response(body)
    }

    func getSuppression(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try authenticate(request, context: context)
        let address = try Self.addressParameter(context)
        guard let entry = try await store.suppression(domain: key.domain, address: address) else {
            throw APIError.notFound("\(address) is not suppressed for \(key.domain)")
        }
        return JSON.response(Self.json(entry))
    }

    /// `PUT /v1/suppressions/{address}` with an optional `{"reason":"…"}`: a manual entry.
    func putSuppression(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try authenticate(request, context: context)
        let address = try Self.addressParameter(context)
        var request = request
        let body = Array(buffer: try await request.collectBody(upTo: 65_536))
        var note: String?
        if !body.contains(where: { ![9, 10, 13, 32].contains($0) }) {
            note = nil
        } else if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            if let reason = object["reason"] {
                guard let text = reason as? String else { throw APIError.invalid("Field \"reason\" must be a string") }
                note = text
            }
        } else {
            throw APIError.invalid("The body must be empty or a JSON object like {\"reason\": \"…\"}")
        }
        let now = clock()
        let entry = try await store.suppress(Suppression(domain: key.domain, address: address, reason: .manual,
                                                         created: now, detail: note))
        context.logger.info("api: key=\(key.id) suppressed <\(address)> for \(key.domain) (manual)")
        return JSON.response(Self.json(entry))
    }

    func deleteSuppression(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try authenticate(request, context: context)
        let address = try Self.addressParameter(context)
        guard try await store.unsuppress(domain: key.domain, address: address) else {
            throw APIError.notFound("\(address) is not suppressed for \(key.domain)")
        }
        context.logger.info("api: key=\(key.id) removed <\(address)> from the suppression list of \(key.domain)")
        return Response(status: .noContent)
    }

    static func addressParameter(_ context: APIRequestContext) throws -> String {
        let raw = try context.parameters.require("address")
        let address = (raw.removingPercentEncoding ?? raw).trimmingCharacters(in: .whitespaces)
        guard looksLikeAddress(address) else { throw APIError.invalid("\"\(address)\" is not an email address") }
        return address.lowercased()
    }

    /// A suppression in the API's shape: `{"address","domain","reason","created"}` (+ message_id, detail).
    static func json(_ s: Suppression) -> [String: Any] {
        var out: [String: Any] = ["address": s.address, "domain": s.domain, "reason": s.reason.rawValue,
                                  "created": JSON.time(s.created)]
        if let id = s.messageID { out["message_id"] = id }
        if let detail = s.detail { out["detail"] = detail }
        return out
    }
}
