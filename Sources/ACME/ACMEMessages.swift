/// The JSON objects of RFC 8555 §7.1 that the client reads (only the members it uses).
struct ACMEOrder: Decodable, Sendable {
    var status: String
    var authorizations: [String]
    var finalize: String
    var certificate: String?
    var error: ACMEProblem?
}

struct ACMEAuthorization: Decodable, Sendable {
    struct Identifier: Decodable, Sendable {
        var type: String
        var value: String
    }

    struct Challenge: Decodable, Sendable {
        var type: String
        var url: String
        var token: String?
        var status: String
        var error: ACMEProblem?
    }

    var status: String
    var identifier: Identifier
    var challenges: [Challenge]
}
