import ACME
import Certificates
import Config
import Foundation
import Logging
import NIOCore

/// `[listen] http|https` and `[acme]`: the web listeners (ACME answers, MTA-STS policy) and the
/// certificate manager, built from the configuration.
extension MailServer {
    static func makeWebServer(config: ApusConfig, directory: DirectoryHolder, tls: TLSContextProvider,
                              group: any EventLoopGroup, logger: Logger) -> WebServer? {
        guard !config.listen.http.isEmpty || !config.listen.https.isEmpty else { return nil }
        let policy = config.mtaSTS.policyText(hostname: config.hostname)
        let routes = WebRoutes(challenges: ChallengeStore(dataDirectory: config.dataDir), mtaSTSPolicy: { domain in
            directory.current.isLocalDomain(domain) ? policy : nil
        })
        return WebServer(http: config.listen.http.map { .init(host: $0.host, port: $0.port) },
                         https: config.listen.https.map { .init(host: $0.host, port: $0.port) },
                         routes: routes, tls: tls, group: group, logger: logger)
    }

    /// nil when `[acme] email` is empty (certificates come from elsewhere).
    public static func makeCertificateManager(config: ApusConfig, configDirectory: String, localDomains: [String],
                                              logger: Logger) -> CertificateManager? {
        guard config.acme.enabled else { return nil }
        let settings = ACMEClient.Settings(directoryURL: config.acme.directory, caFile: config.acme.caFile,
                                           email: config.acme.email, challenge: config.acme.challenge,
                                           dataDirectory: config.dataDir, certsDirectory: "\(configDirectory)/certs")
        let names = config.acme.certificateNames(hostname: config.hostname, localDomains: localDomains)
        return CertificateManager(settings: settings, names: names, logger: logger)
    }

    /// The web listeners' addresses (`[listen] http` then `https`). Waits until bound.
    public func webAddresses() async -> [SocketAddress] {
        _ = await boundAddresses()
        return web?.localAddresses ?? []
    }
}
