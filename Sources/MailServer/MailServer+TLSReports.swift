import Delivery
import Foundation
import HTTPAPI
import Logging
import NIOCore
import ServiceLifecycle

/// TLS-RPT (RFC 8460) in the server: the daily report sender as a service.
extension MailServer {
    /// `apus tls-report send --now` drops this file; the sender picks it up within a second.
    public static func tlsReportTrigger(dataDir: String) -> String { "\(dataDir)/state/tls-report-now" }

    func tlsReportService(_ recorder: TLSReportRecorder) -> TLSReportService {
        let poster: TLSReportPoster?
        do { poster = try TLSReportPoster(caFile: config.delivery.caFile) } catch {
            logger.error("TLS-RPT: https report endpoints are skipped: cannot read [delivery] ca_file \(config.delivery.caFile): \(error)")
            poster = nil
        }
        let hostname = config.hostname
        let domains = directory.current.domains
        // From an address of the hostname's own local domain (or the closest parent that is local), so that
        // the report is DKIM-signed for it when that domain has a key.
        let fromDomain = Self.reportDomain(hostname: hostname, isLocal: { domains.contains($0) }) ?? hostname
        let (signer, directory, wake) = (self.signer, self.directory, self.wake)
        var post: (@Sendable (String, [UInt8]) async -> String?)?
        if let poster {
            post = { url, gzip in await poster.post(url: url, gzip: gzip, submitter: hostname) }
        }
        let sender = TLSReportSender(
            settings: .init(hostname: hostname, fromAddress: "noreply-tlsrpt@\(fromDomain)",
                            contact: "postmaster@\(fromDomain)",
                            triggerFile: Self.tlsReportTrigger(dataDir: config.dataDir)),
            recorder: recorder, store: events.store, dns: resolver, spool: spool, router: router,
            sign: { bytes in
                let signed = await signer.sign(ByteBuffer(bytes: bytes), isLocalDomain: { directory.current.isLocalDomain($0) })
                return Array(signed.readableBytesView)
            },
            queued: { wake.yield($0) },
            post: post,
            logger: logger)
        return TLSReportService(sender: sender, poster: poster)
    }

    /// `hostname` or its nearest parent domain that is local, if any.
    static func reportDomain(hostname: String, isLocal: (String) -> Bool) -> String? {
        var labels = hostname.lowercased().split(separator: ".")
        while labels.count >= 2 {
            let name = labels.joined(separator: ".")
            if isLocal(name) { return name }
            labels.removeFirst()
        }
        return nil
    }
}

/// Sends the daily TLS-RPT reports until the graceful shutdown, then stores the last counts.
struct TLSReportService: Service {
    let sender: TLSReportSender
    let poster: TLSReportPoster?
    func run() async throws {
        let sender = self.sender
        await cancelWhenGracefulShutdown { await sender.run() }
        await poster?.shutdown()
    }
}
