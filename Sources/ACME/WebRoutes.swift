import NIOHTTP1

/// What `[listen] http` and `[listen] https` answer, without I/O.
///
///     http   GET /.well-known/acme-challenge/<token>  → the key authorization (RFC 8555 §8.3)
///            anything else                            → 301 to the same URL on https
///     https  GET /.well-known/mta-sts.txt on mta-sts.<local domain> → the policy (RFC 8461 §3.3)
///            anything else                            → 404
public struct WebRoutes: Sendable {
    public struct Response: Sendable, Equatable {
        public var status: HTTPResponseStatus
        public var body: String
        public var headers: [(String, String)] = []
        public static func == (a: Response, b: Response) -> Bool {
            a.status == b.status && a.body == b.body && a.headers.map { "\($0.0):\($0.1)" } == b.headers.map { "\($0.0):\($0.1)" }
        }
    }

    let challenges: ChallengeStore
    /// The policy text for a domain (`mta-sts.<domain>` asked), or nil when the domain is not local.
    let mtaSTSPolicy: @Sendable (String) -> String?

    public init(challenges: ChallengeStore, mtaSTSPolicy: @escaping @Sendable (String) -> String?) {
        self.challenges = challenges
        self.mtaSTSPolicy = mtaSTSPolicy
    }

    static let challengePrefix = "/.well-known/acme-challenge/"

    public func http(method: HTTPMethod, host: String?, uri: String) -> Response {
        let path = Self.path(of: uri)
        if path.hasPrefix(Self.challengePrefix) {
            let token = String(path.dropFirst(Self.challengePrefix.count))
            guard method == .GET || method == .HEAD, let answer = challenges.httpAnswer(token: token) else {
                return Response(status: .notFound, body: "no such ACME challenge\n")
            }
            return Response(status: .ok, body: answer, headers: [("Content-Type", "application/octet-stream")])
        }
        guard let host = host.flatMap(Self.hostName), !host.isEmpty else {
            return Response(status: .badRequest, body: "a Host header is required\n")
        }
        return Response(status: .movedPermanently, body: "", headers: [("Location", "https://\(host)\(uri.hasPrefix("/") ? uri : "/")")])
    }

    public func https(method: HTTPMethod, host: String?, uri: String) -> Response {
        let path = Self.path(of: uri)
        guard path == "/.well-known/mta-sts.txt" else { return Response(status: .notFound, body: "not found\n") }
        guard method == .GET || method == .HEAD else {
            return Response(status: .methodNotAllowed, body: "only GET\n", headers: [("Allow", "GET")])
        }
        guard let host = host.flatMap(Self.hostName), host.hasPrefix("mta-sts."),
              let policy = mtaSTSPolicy(String(host.dropFirst("mta-sts.".count))) else {
            return Response(status: .notFound, body: "no MTA-STS policy for this host name\n")
        }
        return Response(status: .ok, body: policy, headers: [("Content-Type", "text/plain")])
    }

    static func path(of uri: String) -> String {
        String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// The Host header without its port, lower-cased; nil when it holds characters no host name has.
    static func hostName(_ header: String) -> String? {
        var host = header.lowercased()
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") { host = String(host[..<colon]) }
        guard host.utf8.allSatisfy({ $0 == 0x2d || $0 == 0x2e || (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) })
        else { return nil }
        return host
    }
}
