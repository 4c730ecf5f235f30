import CTLSOptions
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// The server TLS context for all listeners: TLS 1.2 minimum, AEAD cipher suites only (ECDHE with AES-GCM or
/// ChaCha20-Poly1305; no CBC, so nothing for LUCKY13 or BEAST) in the server's order, certificate chosen by SNI.
/// `reload()` re-reads `certs/` (after a renewal or on SIGHUP); connections already open keep
/// the context they started with, new ones get the new certificates.
public final class TLSContextProvider: Sendable {
    public let certsDirectory: String
    public let hostname: String
    private let state: NIOLockedValueBox<(NIOSSLContext?, CertificateSet)>

    public init(certsDirectory: String, hostname: String) throws {
        self.certsDirectory = certsDirectory
        self.hostname = hostname
        self.state = NIOLockedValueBox((nil, CertificateSet(entries: [])))
        try reload()
    }

    /// nil when no certificate is configured (then STARTTLS is not offered).
    public var context: NIOSSLContext? { state.withLockedValue { $0.0 } }
    public var certificates: CertificateSet { state.withLockedValue { $0.1 } }

    public func reload() throws {
        let set = try CertificateSet.load(certsDirectory: certsDirectory)
        let context = try Self.makeContext(set, hostname: hostname)
        state.withLockedValue { $0 = (context, set) }
    }

    static func makeContext(_ set: CertificateSet, hostname: String) throws -> NIOSSLContext? {
        guard let fallback = set.select(serverName: nil, defaultHost: hostname) else { return nil }
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: fallback.chain.map { .certificate($0) },
            privateKey: .privateKey(fallback.key))
        config.minimumTLSVersion = .tlsv12
        config.cipherSuites = serverCipherSuites
        if set.entries.count > 1 {
            config.sslContextCallback = { values, promise in
                guard let name = values.serverHostname,
                      let entry = set.select(serverName: name, defaultHost: hostname),
                      entry.name != fallback.name else {
                    promise.succeed(.noChanges)
                    return
                }
                var change = NIOSSLContextConfigurationOverride()
                change.certificateChain = entry.chain.map { .certificate($0) }
                change.privateKey = .privateKey(entry.key)
                promise.succeed(change)
            }
        }
        let context = try NIOSSLContext(configuration: config)
        preferServerCipherOrder(context)
        return context
    }

    /// TLS 1.2 suites in the order the server prefers them (TLS 1.3's suites are all AEAD and fixed by
    /// BoringSSL). ECDSA and RSA variants both, for either kind of certificate.
    public static let serverCipherSuites = [
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    ].joined(separator: ":")

    /// Sets SSL_OP_CIPHER_SERVER_PREFERENCE on the context's `SSL_CTX`. swift-nio-ssl has no setting for it and
    /// keeps the pointer in a private stored property, read here by reflection; if a later swift-nio-ssl
    /// renames it, the clients' order applies (all suites above are strong either way) and the interop test
    /// `test_tls12_server_cipher_order` fails.
    static func preferServerCipherOrder(_ context: NIOSSLContext) {
        guard let pointer = Mirror(reflecting: context).children
            .first(where: { $0.label == "sslContext" })?.value as? OpaquePointer else { return }
        apus_tls_prefer_server_ciphers(UnsafeMutableRawPointer(pointer))
    }
}
