import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// The server TLS context for all listeners: TLS 1.2 minimum, certificate chosen by SNI.
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
        return try NIOSSLContext(configuration: config)
    }
}
