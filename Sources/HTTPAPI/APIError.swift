import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore

/// An error answer of the API (DESIGN §3c): `{"error":{"code","message"}}` with its HTTP status.
///
/// `message` is written for the developer who reads it in a log: it names the field, the limit or the key
/// setting involved, never internal detail.
public struct APIError: Error, Sendable, Hashable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    public var headers: [String: String] = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public static func invalid(_ message: String) -> APIError { APIError(.badRequest, "invalid_request", message) }
    public static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, "unauthorized", message, headers: ["WWW-Authenticate": "Bearer realm=\"apus\""])
    }
    public static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }
    public static func tooLarge(_ message: String) -> APIError { APIError(.contentTooLarge, "too_large", message) }
    public static func quota(_ message: String, retryAfter: Int? = nil) -> APIError {
        APIError(.tooManyRequests, "quota_exceeded", message, headers: retryAfter.map { ["Retry-After": "\($0)"] } ?? [:])
    }
    public static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
    public static func unavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, "unavailable", message, headers: ["Retry-After": "30"])
    }

    var body: [UInt8] {
        JSON.encode(["error": ["code": code, "message": message]])
    }

    public var response: Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns every error a route throws (ours, Hummingbird's 404/405/413, a decoding failure) into the API's
/// JSON error body, so a client never has to parse two shapes.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                // A known path with another method: 405 with the methods it has (RFC 9110 §15.5.6).
                if let allowed = Self.allowedMethods(request.uri.path) {
                    return APIError(.methodNotAllowed, "invalid_request",
                                    "\(request.method) is not allowed on \(request.uri.path); use \(allowed.joined(separator: " or "))",
                                    headers: ["Allow": allowed.joined(separator: ", ")]).response
                }
                return APIError.notFound("No such endpoint: \(request.method) \(request.uri.path)").response
            case .methodNotAllowed:
                return APIError(.methodNotAllowed, "invalid_request", "\(request.method) is not allowed on \(request.uri.path)").response
            case .contentTooLarge: return APIError.tooLarge("The request body is too large").response
            default:
                return APIError(error.status, error.status.code >= 500 ? "internal" : "invalid_request",
                                error.body ?? error.status.reasonPhrase).response
            }
        } catch {
            context.logger.error("api: \(request.method) \(request.uri.path) failed: \(error)")
            return APIError(.internalServerError, "internal", "Internal error; the server log has the details").response
        }
    }
}

extension APIErrorMiddleware {
    /// The methods of the API's paths (the router's table, by shape).
    static func allowedMethods(_ path: String) -> [String]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (parts.count, parts.first, parts.count > 1 ? parts[1] : nil) {
        case (2, "v1", "messages"): return ["POST"]
        case (3, "v1", "messages"): return ["GET"]
        case (2, "v1", "events"): return ["GET"]
        case (2, "v1", "suppressions"): return ["GET"]
        case (3, "v1", "suppressions"): return ["GET", "PUT", "DELETE"]
        case (2, "unsubscribe", _): return ["GET", "POST"]
        default: return nil
        }
    }
}

/// JSON bodies: JSONSerialization with sorted keys and unescaped slashes (stable, readable output).
enum JSON {
    static func encode(_ object: Any) -> [UInt8] {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return Array("{}".utf8) }
        return Array(data)
    }

    static func response(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        bytesResponse(encode(object), status: status)
    }

    static func bytesResponse(_ bytes: [UInt8], status: HTTPResponse.Status, extra: [String: String] = [:]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in extra {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// RFC 3339 in UTC with whole seconds: "2026-12-05T21:13:16Z".
    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
