import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOSSL

/// The HTTP side of RFC 8555 through async-http-client: the directory, nonces, and signed POSTs with
/// the retries the protocol asks for (a `badNonce` answer is retried with the fresh nonce it carries,
/// §6.5; `Retry-After` is honoured, §6.6).
final class ACMETransport: Sendable {
    struct Directory: Decodable, Sendable {
        var newNonce: String
        var newAccount: String
        var newOrder: String
    }

    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var location: String? { headers.first(name: "Location") }
        /// `Retry-After` in seconds (delta form; an HTTP date is turned into a delta).
        var retryAfter: TimeInterval? {
            guard let value = headers.first(name: "Retry-After") else { return nil }
            if let seconds = TimeInterval(value.trimmingCharacters(in: .whitespaces)) { return seconds }
            let format = DateFormatter()
            format.locale = Locale(identifier: "en_US_POSIX")
            format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            return format.date(from: value).map { max(0, $0.timeIntervalSinceNow) }
        }
    }

    let client: HTTPClient
    let directoryURL: String
    let jws: JWS
    let logger: Logger
    private let nonces = NonceBox()
    /// Longest wait a `Retry-After` may impose on one request.
    static let maxRetryAfter: TimeInterval = 60
    static let maxBadNonceRetries = 10

    /// Trust: the system store, plus `caFile` (PEM) when not empty.
    init(directoryURL: String, caFile: String, key: P256.Signing.PrivateKey, logger: Logger) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !caFile.isEmpty {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw ACMEError("[acme] ca_file \(caFile): missing or unreadable")
            }
            tls.additionalTrustRoots = [.file(caFile)]
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(15), read: .seconds(60))
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.directoryURL = directoryURL
        self.jws = JWS(key: key)
        self.logger = logger
    }

    func shutdown() async { try? await client.shutdown() }

    func directory() async throws -> Directory {
        if let cached = nonces.directory { return cached }
        let response = try await send(url: directoryURL, method: .GET, body: nil)
        guard response.status == 200 else {
            throw ACMEError("ACME directory \(directoryURL) answered HTTP \(response.status)")
        }
        do {
            let directory = try JSONDecoder().decode(Directory.self, from: response.body)
            nonces.directory = directory
            return directory
        } catch {
            throw ACMEError("ACME directory \(directoryURL) is not an RFC 8555 directory: \(error)")
        }
    }

    /// A signed POST (`payload` nil: POST-as-GET). Problem documents become `ACMEProblem` errors.
    func post(_ url: String, kid: String?, payload: String?) async throws -> Response {
        var badNonces = 0
        while true {
            let nonce = try await nextNonce()
            let body = try jws.sign(url: url, nonce: nonce, kid: kid, payload: payload)
            let response = try await send(url: url, method: .POST, body: body)
            if let fresh = response.headers.first(name: "Replay-Nonce") { nonces.put(fresh) }
            if response.status < 400 { return response }
            let problem = (try? JSONDecoder().decode(ACMEProblem.self, from: response.body))
                ?? ACMEProblem(type: "http \(response.status)", detail: String(decoding: response.body.prefix(300), as: UTF8.self))
            if problem.isBadNonce && badNonces < Self.maxBadNonceRetries {
                badNonces += 1
                logger.info("ACME: the CA refused the nonce (badNonce), retrying with a fresh one (\(badNonces)/\(Self.maxBadNonceRetries))")
                continue
            }
            if let wait = response.retryAfter, response.status == 503 || problem.shortType == "rateLimited" {
                if wait <= Self.maxRetryAfter && badNonces < Self.maxBadNonceRetries {
                    badNonces += 1
                    logger.notice("ACME: \(problem); the CA asks to retry after \(Int(wait)) s")
                    try await Task.sleep(for: .seconds(wait))
                    continue
                }
                throw ACMEError("\(problem) (the CA asks to wait \(Int(wait)) s before retrying)")
            }
            throw problem
        }
    }

    private func nextNonce() async throws -> String {
        if let nonce = nonces.take() { return nonce }
        let url = try await directory().newNonce
        let response = try await send(url: url, method: .HEAD, body: nil)
        guard let nonce = response.headers.first(name: "Replay-Nonce") else {
            throw ACMEError("ACME newNonce \(url) answered HTTP \(response.status) without a Replay-Nonce")
        }
        return nonce
    }

    func send(url: String, method: HTTPMethod, body: Data?) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: "apus-acme")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/jose+json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(60), logger: nil)
        } catch {
            throw ACMEError("cannot reach the ACME server at \(url): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Response(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
    }
}

/// Nonces handed out by the CA, used once each; and the directory, fetched once.
final class NonceBox: Sendable {
    private let state = NIOLockedValueBox<(pool: [String], directory: ACMETransport.Directory?)>(([], nil))

    func put(_ nonce: String) { state.withLockedValue { $0.pool.append(nonce) } }
    func take() -> String? { state.withLockedValue { $0.pool.popLast() } }
    var directory: ACMETransport.Directory? {
        get { state.withLockedValue { $0.directory } }
        set { state.withLockedValue { $0.directory = newValue } }
    }
}
