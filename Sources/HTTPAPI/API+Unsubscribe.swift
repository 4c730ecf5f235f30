import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import MailStore

extension API {
    /// `GET /unsubscribe/{token}`: a small page with a button. It never unsubscribes by itself: link scanners
    /// and mail previews fetch URLs (RFC 8058 §3.2).
    func unsubscribePage(_ request: Request, context: APIRequestContext) async throws -> Response {
        let token = try context.parameters.require("token")
        guard let links = unsubscribe, let target = links.verify(token) else { return Self.page(.notFound, Self.unknownLink) }
        let escaped = Self.html(target.recipient), domain = Self.html(target.domain)
        return Self.page(.ok, """
            <h1>Unsubscribe</h1>
            <p>Stop mail from <b>\(domain)</b> to <b>\(escaped)</b>?</p>
            <form method="post" action="\(Self.html(token))">
            <input type="hidden" name="List-Unsubscribe" value="One-Click">
            <button type="submit">Unsubscribe</button>
            </form>
            """)
    }

    /// `POST /unsubscribe/{token}` with `List-Unsubscribe=One-Click` (RFC 8058 §3.1; the confirm button sends
    /// the same): suppresses at once and answers 200.
    func unsubscribePost(_ request: Request, context: APIRequestContext) async throws -> Response {
        let token = try context.parameters.require("token")
        guard let links = unsubscribe, let target = links.verify(token) else {
            context.logger.notice("unsubscribe: refused a bad or altered token from \(context.remoteAddress)")
            return Self.page(.notFound, Self.unknownLink)
        }
        let now = clock()
        let existing = try await store.suppression(domain: target.domain, address: target.recipient)
        if existing == nil {
            try await store.suppress(Suppression(domain: target.domain, address: target.recipient, reason: .unsubscribe,
                                                 created: now, detail: "one-click unsubscribe from \(context.remoteAddress)"))
            recorder.record(NewEvent(type: .unsubscribed, time: now, messageID: "", recipient: target.recipient,
                                     domain: target.domain, detail: ["source": "one-click"]))
            context.logger.notice("unsubscribe: <\(target.recipient)> unsubscribed from \(target.domain) (one-click)")
        }
        return Self.page(.ok, "<h1>Unsubscribed</h1><p>\(Self.html(target.recipient)) will get no more mail from \(Self.html(target.domain)).</p>")
    }

    static let unknownLink = "<h1>Unknown link</h1><p>This unsubscribe link is not valid. Copy the whole link from the message.</p>"

    static func page(_ status: HTTPResponse.Status, _ content: String) -> Response {
        let body = """
            <!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex">\
            <title>Unsubscribe</title></head><body>\(content)</body></html>
            """
        var fields = HTTPFields()
        fields[.contentType] = "text/html; charset=utf-8"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func html(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
