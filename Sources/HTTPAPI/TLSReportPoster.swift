import AsyncHTTPClient
import Foundation
import NIOCore

/// Delivers a TLS-RPT report to an `https:` `rua` endpoint (RFC 8460 §5.4): one POST with the gzip'd JSON
/// as `application/tlsrpt+gzip`; any 2xx is success. The endpoint's certificate is verified against the
/// system store plus `[delivery] ca_file` (DESIGN: outgoing TLS trust), redirects are not followed, and a
/// request gives up after `timeout`. The HTTP client is made at the first POST (most servers never need it);
/// call `shutdown()` when done.
public actor TLSReportPoster {
    let configuration: HTTPClient.Configuration
    let timeout: TimeAmount
    var client: HTTPClient?

    public init(caFile: String = "", timeout: TimeAmount = .seconds(30)) throws {
        self.configuration = try OutboundHTTPConfiguration.make(caFile: caFile, connectTimeout: .seconds(10), readTimeout: timeout)
        self.timeout = timeout
    }

    /// POSTs `gzip` to `url`; nil on a 2xx answer, else what went wrong.
    public func post(url: String, gzip: [UInt8], submitter: String) async -> String? {
        guard url.lowercased().hasPrefix("https://") else { return "not an https URL" }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/tlsrpt+gzip")
        request.headers.add(name: "User-Agent", value: "Apus-TLSRPT/1 (\(submitter))")
        request.body = .bytes(ByteBuffer(bytes: gzip))
        let client = self.client ?? HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.client = client
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return (200..<300).contains(Int(response.status.code)) ? nil : "HTTP \(response.status.code)"
        } catch {
            return "\(error)"
        }
    }

    public func shutdown() async {
        try? await client?.shutdown()
        client = nil
    }
}
