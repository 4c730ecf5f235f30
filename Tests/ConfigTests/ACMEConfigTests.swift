import Testing
@testable import Config

/// `[acme]`, `[mta_sts]` and `[listen] http|https` (DESIGN.md §3): parsing, defaults, and the messages that
/// name the key to change.
@Suite struct ACMEConfigTests {
    static let listeners = """
        hostname = "mx.example.com"
        [listen]
        http = ["0.0.0.0:80"]
        https = ["0.0.0.0:443"]

        """

    @Test func parsesTheSections() throws {
        let config = try ApusConfig.parse(Self.listeners + """
            [acme]
            email = "postmaster@example.com"
            challenge = "http-01"
            names = ["mx.example.com", "MTA-STS.example.com"]
            [mta_sts]
            mode = "enforce"
            mx = ["mx.example.com", "*.backup.example.net"]
            max_age = "1d"
            """, path: "apus.toml")
        #expect(config.listen.http == [ListenAddress(host: "0.0.0.0", port: 80)])
        #expect(config.acme.enabled && config.acme.challenge == "http-01")
        #expect(config.acme.certificateNames(hostname: "ignored", localDomains: []) == ["mx.example.com", "mta-sts.example.com"])
        #expect(config.mtaSTS.policyText(hostname: "mx.example.com")
                == "version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmx: *.backup.example.net\r\nmax_age: 86400\r\n")
        // The rendered file parses back to the same configuration.
        #expect(try ApusConfig.parse(config.render(), path: "rendered") == config)
    }

    @Test func defaultNamesAreTheHostAndEachPolicyHost() {
        let acme = ApusConfig.ACME(email: "a@example.com")
        #expect(acme.certificateNames(hostname: "MX.example.com", localDomains: ["example.org", "example.com"])
                == ["mx.example.com", "mta-sts.example.com", "mta-sts.example.org"])
        #expect(!ApusConfig.ACME().enabled)
        #expect(ApusConfig.MTASTS().policyText(hostname: "mx.example.com")
                == "version: STSv1\r\nmode: testing\r\nmx: mx.example.com\r\nmax_age: 604800\r\n")
    }

    @Test(arguments: [
        ("[acme]\nemail = \"a@example.com\"\n", "\"challenge\" in [acme] is \"tls-alpn-01\", which needs [listen] https"),
        ("[acme]\nemail = \"a@example.com\"\nchallenge = \"http-01\"\n", "\"challenge\" in [acme] is \"http-01\", which needs [listen] http"),
        ("[acme]\nchallenge = \"dns-01\"\n", "\"challenge\" in [acme] must be \"tls-alpn-01\" or \"http-01\", not \"dns-01\""),
        ("[mta_sts]\nmode = \"strict\"\n", "\"mode\" in [mta_sts] must be \"testing\", \"enforce\" or \"none\", not \"strict\""),
        ("[mta_sts]\nmax_age = \"400d\"\n", "\"max_age\" in [mta_sts] must be at most a year"),
        ("[acme]\nnames = [\"not a name\"]\n", "\"names\" in [acme]: \"not a name\" is not a host name"),
        ("[listen]\nhttps = [\"0.0.0.0:443\"]\n[acme]\nemail = \"nobody\"\n", "\"email\" in [acme] \"nobody\" is not an address"),
    ])
    func problemsNameTheKey(text: String, message: String) {
        do {
            _ = try ApusConfig.parse("hostname = \"mx.example.com\"\n" + text, path: "apus.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
