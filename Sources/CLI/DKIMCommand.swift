import ArgumentParser
import DKIM
import DNSCore
import DNSResolver
import Foundation

/// `apus dkim keygen|dns|sign|verify` (DESIGN.md §3b). Keys live in `<config>/domains/<domain>/dkim/<selector>.pem`.
struct DKIMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkim",
        abstract: "Create DKIM keys, print their DNS records, sign and verify messages.",
        subcommands: [Keygen.self, Records.self, Sign.self, Verify.self])

    /// Default selectors: stable names per algorithm, so an Ed25519 and an RSA key can coexist. For a key
    /// rotation pick a new selector (e.g. `--selector rsa2027`), publish it, then remove the old file.
    static func defaultSelector(for algorithm: DKIMKeyAlgorithm) -> String {
        algorithm == .ed25519 ? "apus-ed25519" : "apus-rsa"
    }

    static func readStandardInput() -> [UInt8] {
        DKIMMessage.normalizingLineEndings([UInt8](FileHandle.standardInput.readDataToEndOfFile()))
    }

    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("apus dkim: \(message)\n".utf8))
        return ExitCode.failure
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keygen",
            abstract: "Create a DKIM private key and print the TXT record to publish.",
            discussion: """
                Writes <config>/domains/DOMAIN/dkim/<selector>.pem (PKCS#8; mode 0600, or 0640 with the \
                directory's group when the directory is closed to others) and never overwrites a key.
                Default selector: apus-rsa for RSA, apus-ed25519 for Ed25519. RSA is what every receiver checks;
                add an Ed25519 key beside it if you like (mail is then signed with both).
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The domain to sign for.") var domain: String
        @Option(help: "Selector (the DNS label before ._domainkey).") var selector: String?
        @Option(help: "ed25519, rsa2048 or rsa3072.") var algorithm: DKIMKeyAlgorithm = .rsa2048

        func run() async throws {
            let selector = self.selector ?? DKIMCommand.defaultSelector(for: algorithm)
            let path = DKIMKeyStore.path(configDirectory: options.configDirectory, domain: domain, selector: selector)
            guard !FileManager.default.fileExists(atPath: path) else {
                throw DKIMCommand.fail("\(path) already exists; not overwriting it (choose another --selector)")
            }
            let key: DKIMSigningKey
            do {
                key = try DKIMSigningKey.generate(algorithm, domain: domain.lowercased(), selector: selector)
            } catch {
                throw DKIMCommand.fail("\(error)")
            }
            do {
                let written = try DKIMKeyStore.write(key, configDirectory: options.configDirectory)
                FileHandle.standardError.write(Data("wrote \(written); publish this record:\n".utf8))
            } catch {
                throw DKIMCommand.fail("\(error)")
            }
            print(ZoneRecord.dkim(key).zoneLine)
        }
    }

    struct Records: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dns",
            abstract: "Print the TXT records of the domain's DKIM keys as zone-file lines.",
            discussion: "Each value is split into quoted strings of at most 255 bytes, as DNS requires.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The domain whose keys to print.") var domain: String

        func run() async throws {
            let keys: [DKIMSigningKey]
            do { keys = try DKIMKeyStore.load(configDirectory: options.configDirectory, domain: domain) } catch {
                throw DKIMCommand.fail("\(error)")
            }
            guard !keys.isEmpty else {
                let dir = DKIMKeyStore.directory(configDirectory: options.configDirectory, domain: domain)
                throw DKIMCommand.fail("no keys in \(dir); create one with `apus dkim keygen \(domain)`")
            }
            for key in keys { print(ZoneRecord.dkim(key).zoneLine) }
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign",
            abstract: "Sign the message on standard input with the domain's keys; print the signed message.",
            discussion: "Line endings are converted to CRLF. Signs relaxed/relaxed with every key, or only --selector.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The signing domain (d=).") var domain: String
        @Option(help: "Sign only with this selector.") var selector: String?

        func run() async throws {
            var keys: [DKIMSigningKey]
            do { keys = try DKIMKeyStore.load(configDirectory: options.configDirectory, domain: domain) } catch {
                throw DKIMCommand.fail("\(error)")
            }
            if let selector { keys = keys.filter { $0.selector == selector } }
            guard !keys.isEmpty else {
                let what = selector.map { "key \($0)" } ?? "keys"
                throw DKIMCommand.fail("no \(what) for \(domain) in \(DKIMKeyStore.directory(configDirectory: options.configDirectory, domain: domain))")
            }
            let message = DKIMCommand.readStandardInput()
            do {
                let signed = try DKIMSigner(timestamp: Int64(Date().timeIntervalSince1970)).sign(message: message, keys: keys)
                FileHandle.standardOutput.write(Data(signed))
            } catch {
                throw DKIMCommand.fail("\(error)")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Verify the DKIM signatures of the message on standard input.",
            discussion: """
                Prints one line per signature, `<result> d=<domain> s=<selector> <reason>`, or `none`.
                Exit status 0 when every signature passes or there are none, 1 otherwise.
                """)

        @OptionGroup var options: ConfigOptions
        @Option(help: ArgumentHelp("DNS server to ask instead of /etc/resolv.conf.", valueName: "HOST:PORT"))
        var dns: String?
        @Option(name: .customLong("key-file"), help: .hidden) var keyFiles: [String] = []

        func run() async throws {
            let lookup: DKIMKeyLookup
            if !keyFiles.isEmpty {
                var table: [String: [String]] = [:]
                for spec in keyFiles {
                    guard let eq = spec.firstIndex(of: "=") else { throw DKIMCommand.fail("--key-file wants NAME=TXTFILE") }
                    let path = String(spec[spec.index(after: eq)...])
                    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw DKIMCommand.fail("cannot read \(path)") }
                    table[String(spec[..<eq]), default: []].append(text.trimmingCharacters(in: .whitespacesAndNewlines))
                }
                lookup = staticKeyLookup(table)
            } else if let dns {
                guard let server = DNSServerAddress(dns) else { throw DKIMCommand.fail("--dns wants HOST:PORT with an IP address, not \(dns)") }
                lookup = dnsKeyLookup(DNSResolver(servers: [server]))
            } else {
                lookup = dnsKeyLookup(DNSResolver.system())
            }
            let message = DKIMCommand.readStandardInput()
            let results = await DKIMVerifier(lookup: lookup).verify(message: message, now: Int64(Date().timeIntervalSince1970))
            if results.isEmpty {
                print("none")
                return
            }
            for result in results { print(result.description) }
            if !results.allSatisfy({ $0.status == .pass }) { throw ExitCode.failure }
        }
    }
}

extension DKIMKeyAlgorithm: ExpressibleByArgument {}
