import Foundation

/// The body of `POST /v1/messages` (DESIGN §3c): either the parts of a message for Apus to build, or a ready
/// RFC 5322 message in `raw_base64`.
struct SendRequest: Decodable, Sendable {
    struct AttachmentPart: Decodable, Sendable {
        var filename: String
        var contentType: String?
        var contentBase64: String

        enum CodingKeys: String, CodingKey {
            case filename, contentType = "content_type", contentBase64 = "content_base64"
        }
    }

    var from: String
    var to: [String]
    var cc: [String]
    var bcc: [String]
    var replyTo: String?
    var subject: String?
    var text: String?
    var html: String?
    var headers: [String: String]
    var attachments: [AttachmentPart]
    var unsubscribe: Bool
    /// REQUIRETLS (RFC 8689): delivered only over verified TLS to servers that advertise it, else bounced.
    var requireTLS: Bool
    var rawBase64: String?

    enum CodingKeys: String, CodingKey {
        case from, to, cc, bcc, subject, text, html, headers, attachments, unsubscribe
        case replyTo = "reply_to", rawBase64 = "raw_base64", requireTLS = "require_tls"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        from = try c.decode(String.self, forKey: .from)
        to = try Self.addresses(c, .to)
        cc = try Self.addresses(c, .cc)
        bcc = try Self.addresses(c, .bcc)
        replyTo = try c.decodeIfPresent(String.self, forKey: .replyTo)
        subject = try c.decodeIfPresent(String.self, forKey: .subject)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        html = try c.decodeIfPresent(String.self, forKey: .html)
        headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
        attachments = try c.decodeIfPresent([AttachmentPart].self, forKey: .attachments) ?? []
        unsubscribe = try c.decodeIfPresent(Bool.self, forKey: .unsubscribe) ?? false
        requireTLS = try c.decodeIfPresent(Bool.self, forKey: .requireTLS) ?? false
        rawBase64 = try c.decodeIfPresent(String.self, forKey: .rawBase64)
    }

    /// A list of addresses; a single string is taken as a list of one (a common slip that is unambiguous).
    static func addresses(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [String] {
        if let one = try? c.decode(String.self, forKey: key) { return [one] }
        return try c.decodeIfPresent([String].self, forKey: key) ?? []
    }

    /// Parses the body, turning decoding errors into messages that name the field.
    static func parse(_ body: [UInt8]) throws(APIError) -> SendRequest {
        guard !body.isEmpty else { throw .invalid("The request body is empty; send a JSON object (Content-Type: application/json)") }
        do {
            return try JSONDecoder().decode(SendRequest.self, from: Data(body))
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalid("Missing field \"\(Self.path(context.codingPath + [key]))\"")
        } catch let DecodingError.typeMismatch(type, context) {
            throw .invalid("Field \"\(Self.path(context.codingPath))\" must be \(Self.describe(type))")
        } catch let DecodingError.valueNotFound(type, context) {
            throw .invalid("Field \"\(Self.path(context.codingPath))\" must be \(Self.describe(type)), not null")
        } catch DecodingError.dataCorrupted(let context) {
            let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            throw .invalid("The body is not valid JSON" + (detail.map { ": \($0)" } ?? ""))
        } catch {
            throw .invalid("The body is not valid JSON")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
            .replacingOccurrences(of: ".[", with: "[")
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is [String].Type: return "a list of strings"
        case is [String: String].Type: return "an object of strings"
        default: return "of type \(type)"
        }
    }

    /// Every envelope recipient: to, cc and bcc.
    var allRecipients: [String] { to + cc + bcc }
}

/// The bare address in "Name <addr>" or "addr".
func bareAddress(_ text: String) -> String {
    let t = text.trimmingCharacters(in: .whitespaces)
    if let open = t.lastIndex(of: "<"), let close = t.lastIndex(of: ">"), open < close {
        return String(t[t.index(after: open)..<close]).trimmingCharacters(in: .whitespaces)
    }
    return t
}

func domainOf(_ address: String) -> String {
    guard let at = address.lastIndex(of: "@") else { return "" }
    return String(address[address.index(after: at)...]).lowercased()
}
