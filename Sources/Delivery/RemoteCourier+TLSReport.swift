import SMTPTransport

/// Counts one connection's TLS outcome for TLS-RPT (RFC 8460 §4.3), from the points of `attempt` where it
/// is known. Under an MTA-STS (or DANE) policy a certificate that does not verify is a failure even when
/// the mail then goes over unverified TLS (testing mode); without a policy, the opportunistic session that
/// follows is what counts.
struct TLSReportSession {
    let recorder: TLSReportRecorder?
    let policy: TLSReportPolicy?
    let domain: String
    let sendingIP: String?
    let host: String
    let ip: String

    init(courier: RemoteCourier, domain: String, options: DeliveryOptions, connection: SMTPClientConnection,
         host: String, ip: String) {
        recorder = courier.tlsReports
        policy = options.reportPolicy
        self.domain = domain
        sendingIP = connection.channel.localAddress?.ipAddress
        self.host = host
        self.ip = ip
    }

    var hasPolicy: Bool { policy.map { $0.kind != .noPolicyFound } ?? false }

    func established(verified: Bool) async {
        if verified || !hasPolicy { await record(nil) }
    }

    func handshakeFailed(_ error: any Error, verified: Bool, willRetry: Bool) async {
        if verified {
            if hasPolicy || !willRetry { await record(TLSResultType.classify(handshakeError: "\(error)")) }
        } else if !hasPolicy {
            await record(.validationFailure)
        }
    }

    func noStartTLS() async { await record(.starttlsNotSupported) }

    private func record(_ failure: TLSResultType?) async {
        guard let recorder, let policy else { return }
        await recorder.record(domain: domain, policy: policy, failure: failure, sendingIP: sendingIP, mx: host, ip: ip)
    }
}
