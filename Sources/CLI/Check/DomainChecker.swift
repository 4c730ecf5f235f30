import Certificates
import Config
import DKIM
import DNSCore
import Foundation

/// The live checks behind `apus check DOMAIN` (issue 7): what a receiving server on the internet will find
/// when it looks up the domain, its mail host and this machine, and what a sending server needs to reach it.
///
/// DNS checks (`+Records`): MX → host name; the host name's A/AAAA are this machine; reverse DNS (PTR) of each
/// address leads back to the host name (forward-confirmed, RFC 8601 §3 "iprev"); SPF is valid and authorizes
/// each address (RFC 7208); every local DKIM key is published unchanged (RFC 6376 §3.6.2); DMARC (RFC 7489);
/// MTA-STS (RFC 8461) and TLS-RPT (RFC 8460). Server checks (`+Server`): the certificate for the host name,
/// the listeners, outbound port 25 and whether DNS blocklists answer the resolver.
///
/// Each check returns findings and never throws: a DNS failure is itself a finding.
struct DomainChecker: Sendable {
    var domain: String
    var hostname: String
    var dns: any DNSResolving
    var dkimKeys: [DKIMSigningKey]
    var dkimDirectory: String
    /// This server's public addresses as given with `--ip`; empty means "find out from the interfaces".
    var declaredAddresses: [IPAddress] = []
    /// The machine's globally routable interface addresses (empty behind NAT).
    var publicInterfaceAddresses: [IPAddress] = []
    /// Whether an address belongs to this machine.
    var isLocal: @Sendable (IPAddress) -> Bool = { _ in false }
    var now: Date = Date()

    /// The addresses other servers will see mail coming from, and that the DNS records must name.
    struct Addresses: Sendable {
        /// The host name's A/AAAA records.
        var published: [IPAddress] = []
        /// This server's addresses: `--ip`, or the published ones that are (or may be, behind NAT) ours,
        /// plus the public interface addresses.
        var ours: [IPAddress] = []
    }

    /// All DNS checks, in the order they are printed.
    func checkRecords() async -> (findings: [CheckFinding], addresses: Addresses) {
        var findings = await checkMX()
        let (addressFindings, addresses) = await checkHostAddresses()
        findings += addressFindings
        findings += await checkReverseDNS(addresses)
        findings += await checkSPF(addresses.ours)
        findings += await checkDKIM()
        findings += await checkDMARC()
        findings += await checkTLSRPT()
        return (findings, addresses)
    }

    /// Host names compare without case and without the final dot.
    static func sameName(_ a: String, _ b: String) -> Bool {
        func clean(_ s: String) -> String { (s.hasSuffix(".") ? String(s.dropLast()) : s).lowercased() }
        return clean(a) == clean(b)
    }

    /// `A` or `AAAA`.
    static func recordType(_ ip: IPAddress) -> String { ip.isIPv4 ? "A" : "AAAA" }
}
