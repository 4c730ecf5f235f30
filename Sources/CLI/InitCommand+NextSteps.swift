import DNSCore
import Foundation

/// What `apus init` did, one line per item, printed as it happens (so a failure shows what was done).
struct InitReport {
    private(set) var failed = false

    mutating func created(_ what: String, _ detail: String = "") { add("created", what, detail) }
    mutating func kept(_ what: String, _ detail: String = "") {
        add("kept   ", what, detail.isEmpty ? "already there, not changed" : detail + "; already there, not changed")
    }
    mutating func later(_ what: String, _ detail: String) { add("later  ", what, detail) }
    mutating func note(_ text: String) { print("  note     \(text)") }
    mutating func problem(_ text: String) {
        print("  PROBLEM  \(text)")
        failed = true
    }

    mutating func add(_ verb: String, _ what: String, _ detail: String) {
        print("  \(verb)  \(what)" + (detail.isEmpty ? "" : "  (\(detail))"))
    }
}

/// The numbered steps printed at the end of `apus init`.
struct NextSteps {
    var domain: String
    var hostname: String
    var configDirectory: String
    /// Whether to write `--config DIR` into the commands shown.
    var customConfig: Bool
    var addresses: [IPAddress]
    var user: String?
    var certificate: InitCommand.CertificateOutcome
    /// `[acme] email` is set: the server obtains the certificates itself.
    var acme = false

    var text: String {
        let config = customConfig ? " --config \(configDirectory)" : ""
        let ipOptions = addresses.map { $0.isIPv4 ? " --ip \($0)" : " --ip6 \($0)" }.joined()
        let certs = "\(configDirectory)/certs/\(hostname)"
        let address = user ?? "you@\(domain)"
        var steps: [String] = []

        steps.append("""
            Publish the DNS records. This prints them as a zone-file snippet, each with a comment that says
            what it is for (add --table for a name / type / value list):
                apus dns records \(domain)\(config)\(ipOptions.isEmpty ? " --ip YOUR.PUBLIC.IPV4 [--ip6 YOUR:IPV6::]" : ipOptions)
            It ends with the reverse DNS (PTR) to ask your hosting provider for.
            """)
        if acme {
            steps.append("""
                Certificates come from Let's Encrypt by themselves ([acme] in apus.toml): at its first start
                apus serve obtains one for \(hostname) and mta-sts.\(domain) through port 443 (tls-alpn-01),
                so both names must point at this server and port 443 be reachable. Then:
                    apus cert status\(config)
                """)
        } else if certificate != .existing {   // a real certificate is already in place: nothing to do
            steps.append("""
                Get a real certificate for \(hostname)\(certificate == .selfSigned ? ": the self-signed one is fine for mail between\nservers, but mail apps and Gmail refuse it" : ""). Port 80 must be free and reachable for this:
                    certbot certonly --standalone -d \(hostname) --deploy-hook \\
                      'cp "$RENEWED_LINEAGE/fullchain.pem" "$RENEWED_LINEAGE/privkey.pem" \(certs)/'
                or with acme.sh:
                    acme.sh --issue --standalone -d \(hostname)
                    acme.sh --install-cert -d \(hostname) --fullchain-file \(certs)/fullchain.pem \\
                      --key-file \(certs)/privkey.pem
                Both renew the certificate by themselves and write it into \(certs)/;
                a running apus notices the new files within seconds (no restart, no reload command).
                When apus runs as its own user, keep the files readable by it (docs/install.md).
                """)
        }
        if user == nil {
            steps.append("""
                Add a user (it asks for the password twice):
                    apus user add \(address)\(config)
                """)
        }
        steps.append("""
            Start the server (ports 25, 587 and 465 need root or CAP_NET_BIND_SERVICE):
                apus serve\(config)
            or run it as a service under its own user: dist/systemd/apus.service and docs/install.md.
            """)
        steps.append("""
            Check what other mail servers will see: MX, addresses, reverse DNS, SPF, DKIM, DMARC, MTA-STS,
            the certificate, the ports, outbound port 25 and DNS blocklists. Each line starts with ✓, ✗ or !,
            and every ✗ and ! says what to do; run it again after each fix (DNS changes take a while):
                apus check \(domain)\(config)\(addresses.isEmpty ? "" : addresses.map { " --ip \($0)" }.joined())
            """)
        steps.append("""
            Send as \(address) from Gmail: Settings → See all settings → Accounts and Import →
            "Send mail as" → Add another email address, then:
                SMTP Server   \(hostname)
                Port          587 with "Secured connection using TLS"  (or 465 with SSL)
                Username      \(address)   (the full address)
                Password      the password of \(address)
            """)

        var out = "Next steps:\n"
        for (index, step) in steps.enumerated() {
            let lines = step.split(separator: "\n", omittingEmptySubsequences: false)
            out += "\n\(index + 1). \(lines[0])\n"
            for line in lines.dropFirst() { out += "   \(line)\n" }
        }
        return out
    }
}
