import Crypto
import Foundation
import Logging

/// Obtains one certificate from an ACME CA (RFC 8555): account, order, one authorization per name
/// answered by HTTP-01 or TLS-ALPN-01 through the `ChallengeStore`, finalize with a CSR, download of
/// the chain, and the atomic write into `certs/<name>/`.
public final class ACMEClient: Sendable {
    public struct Settings: Sendable {
        public var directoryURL: String
        public var caFile: String
        public var email: String
        /// "tls-alpn-01" or "http-01"
        public var challenge: String
        /// `<data_dir>`: the account key is in `state/acme/`.
        public var dataDirectory: String
        public var certsDirectory: String
        /// How long to wait for the CA to validate a challenge or issue the certificate.
        public var pollTimeout: TimeInterval = 120

        public init(directoryURL: String, caFile: String, email: String, challenge: String,
                    dataDirectory: String, certsDirectory: String) {
            self.directoryURL = directoryURL
            self.caFile = caFile
            self.email = email
            self.challenge = challenge
            self.dataDirectory = dataDirectory
            self.certsDirectory = certsDirectory
        }
    }

    let settings: Settings
    let transport: ACMETransport
    let store: ChallengeStore
    let logger: Logger

    public init(settings: Settings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        self.store = ChallengeStore(dataDirectory: settings.dataDirectory)
        let key = try AccountKey.loadOrCreate(directory: "\(settings.dataDirectory)/state/acme")
        self.transport = try ACMETransport(directoryURL: settings.directoryURL, caFile: settings.caFile,
                                           key: key, logger: logger)
    }

    public func shutdown() async { await transport.shutdown() }

    /// Runs a whole order for `names` (the first one names the directory) and writes the result.
    /// Returns the path of the new fullchain.pem. Errors carry the CA's problem text.
    @discardableResult
    public func obtain(names: [String]) async throws -> String {
        let account = try await accountURL()
        let identifiers = names.map { JSONText.object([("type", JSONText.quote("dns")), ("value", JSONText.quote($0))]) }
        let created = try await transport.post(try await transport.directory().newOrder, kid: account,
                                               payload: JSONText.object([("identifiers", JSONText.array(identifiers))]))
        guard let orderURL = created.location else { throw ACMEError("the CA created an order without a Location") }
        var order = try decode(ACMEOrder.self, created.body, what: "order")
        logger.info("ACME: order \(orderURL) for \(names.joined(separator: ", ")): \(order.status)")

        for url in order.authorizations {
            try await authorize(url, account: account)
        }

        let request = try CertificateRequest(names: names)
        let finalized = try await transport.post(order.finalize, kid: account,
                                                 payload: JSONText.object([("csr", JSONText.quote(Base64URL.encode(request.der)))]))
        order = try decode(ACMEOrder.self, finalized.body, what: "order")
        order = try await poll(orderURL, account: account, as: ACMEOrder.self, what: "order") { current in
            if current.status == "invalid" {
                throw ACMEError("the CA refused to issue the certificate: \(current.error.map(String.init(describing:)) ?? "order invalid")")
            }
            return current.status == "valid" && current.certificate != nil
        }
        guard let certificateURL = order.certificate else { throw ACMEError("the order is valid but has no certificate URL") }
        let chain = try await transport.post(certificateURL, kid: account, payload: nil)
        let pem = String(decoding: chain.body, as: UTF8.self)
        guard pem.contains("-----BEGIN CERTIFICATE-----") else {
            throw ACMEError("the certificate download from \(certificateURL) is not a PEM chain")
        }
        let directory = "\(settings.certsDirectory)/\(names[0])"
        try CertificateFiles.write(directory: directory, fullchain: pem, privateKey: request.key.pemRepresentation + "\n")
        logger.info("ACME: new certificate for \(names.joined(separator: ", ")) written to \(directory)/fullchain.pem")
        return "\(directory)/fullchain.pem"
    }

    /// new-account with `termsOfServiceAgreed` (RFC 8555 §7.3): creates it, or finds the existing one
    /// for this key (200 with its Location).
    func accountURL() async throws -> String {
        let payload = JSONText.object([("termsOfServiceAgreed", "true"),
                                       ("contact", JSONText.array([JSONText.quote("mailto:\(settings.email)")]))])
        let response = try await transport.post(try await transport.directory().newAccount, kid: nil, payload: payload)
        guard let url = response.location else { throw ACMEError("the CA answered new-account without a Location") }
        return url
    }

    func authorize(_ url: String, account: String) async throws {
        let response = try await transport.post(url, kid: account, payload: nil)
        let authorization = try decode(ACMEAuthorization.self, response.body, what: "authorization")
        let name = authorization.identifier.value
        if authorization.status == "valid" { return }
        guard let challenge = authorization.challenges.first(where: { $0.type == settings.challenge }),
              let token = challenge.token else {
            let offered = authorization.challenges.map(\.type).joined(separator: ", ")
            throw ACMEError("the CA offers no \(settings.challenge) challenge for \(name) (offered: \(offered)); set [acme] challenge")
        }
        let keyAuthorization = transport.jws.keyAuthorization(token: token)
        if settings.challenge == "http-01" {
            try store.putHTTP(token: token, keyAuthorization: keyAuthorization)
        } else {
            try store.putTLS(name: name, keyAuthorization: keyAuthorization)
        }
        defer { store.remove(token: token, name: name) }
        logger.info("ACME: answering \(settings.challenge) for \(name)")
        _ = try await transport.post(challenge.url, kid: account, payload: "{}")
        _ = try await poll(url, account: account, as: ACMEAuthorization.self, what: "authorization") { current in
            if current.status == "invalid" {
                let problem = current.challenges.first(where: { $0.type == self.settings.challenge })?.error
                throw ACMEError("the CA refused the \(self.settings.challenge) challenge for \(name): "
                                + (problem.map(String.init(describing:)) ?? "authorization invalid"))
            }
            return current.status == "valid"
        }
    }

    /// POST-as-GET `url` until `done` says so, waiting `Retry-After` (or 1 s) between tries.
    func poll<T: Decodable>(_ url: String, account: String, as type: T.Type, what: String,
                            done: (T) throws -> Bool) async throws -> T {
        let deadline = Date().addingTimeInterval(settings.pollTimeout)
        while true {
            let response = try await transport.post(url, kid: account, payload: nil)
            let value = try decode(type, response.body, what: what)
            if try done(value) { return value }
            guard Date() < deadline else {
                throw ACMEError("the CA did not finish the \(what) \(url) within \(Int(settings.pollTimeout)) s")
            }
            let wait = min(max(response.retryAfter ?? 1, 0.2), 10)
            try await Task.sleep(for: .seconds(wait))
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw ACMEError("the CA's \(what) is not valid RFC 8555 JSON: \(error)")
        }
    }
}
