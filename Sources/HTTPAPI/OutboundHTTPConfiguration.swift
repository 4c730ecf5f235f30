import AsyncHTTPClient
import NIOCore
import NIOSSL

/// The async-http-client configuration of Apus's outgoing HTTPS requests (webhooks, TLS-RPT reports):
/// the system's trust store, plus the certificates of `[delivery] ca_file` when set (a private CA, tests);
/// redirects refused (an endpoint that moves is an error to report, not to follow).
enum OutboundHTTPConfiguration {
    static func make(caFile: String, connectTimeout: TimeAmount, readTimeout: TimeAmount) throws -> HTTPClient.Configuration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !caFile.isEmpty {
            var roots = try NIOSSLCertificate.fromPEMFile(caFile)
            if let system = try? NIOSSLCertificate.fromPEMFile("/etc/ssl/certs/ca-certificates.crt") { roots += system }
            tls.trustRoots = .certificates(roots)
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: connectTimeout, read: readTimeout)
        configuration.redirectConfiguration = .disallow
        return configuration
    }
}
