import DKIM
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// DKIM-signs mail that our users submit (DESIGN.md §4): when the From header's domain is local and
/// has keys under `domains/<domain>/dkim/`, every key signs (relaxed/relaxed). Keys are read once and
/// cached; `reload()` forgets them (SIGHUP). Forwarded mail is never signed here: only authenticated
/// submissions reach this code.
final class OutboundSigner: Sendable {
    let configDirectory: String
    let logger: Logger
    private let keys = NIOLockedValueBox<[String: [DKIMSigningKey]]>([:])

    init(configDirectory: String, logger: Logger) {
        self.configDirectory = configDirectory
        self.logger = logger
    }

    func reload() { keys.withLockedValue { $0.removeAll() } }

    func keys(for domain: String) -> [DKIMSigningKey] {
        if let cached = keys.withLockedValue({ $0[domain] }) { return cached }
        let loaded: [DKIMSigningKey]
        do {
            let (usable, problems) = try DKIMKeyStore.loadUsable(configDirectory: configDirectory, domain: domain)
            for problem in problems {
                logger.error("DKIM key skipped, \(domain) is signed with its other keys (\(usable.count)): \(problem)")
            }
            for key in usable where key.isWeak {
                let file = DKIMKeyStore.path(configDirectory: configDirectory, domain: domain, selector: key.selector)
                let advice = "rotate to a new key: apus dkim keygen \(domain) --selector NEW, publish it, then remove this one"
                logger.warning("DKIM key \(file) is RSA-\(key.rsaBits ?? 0): signing with it (RFC 8301 allows 1024 bits), but it is weak; \(advice)")
            }
            loaded = usable
        } catch {
            logger.error("DKIM keys of \(domain) not usable, mail is sent unsigned: \(error)")
            loaded = []
        }
        keys.withLockedValue { $0[domain] = loaded }
        return loaded
    }

    /// The message with DKIM-Signature fields prepended, or unchanged when the From domain is not
    /// ours or has no key. Runs the signature on NIO's thread pool (RSA is slow in debug builds).
    func sign(_ message: ByteBuffer, isLocalDomain: (String) -> Bool) async -> ByteBuffer {
        let bytes = Array(message.readableBytesView)
        guard let domain = Self.fromDomain(bytes), isLocalDomain(domain) else { return message }
        let domainKeys = keys(for: domain)
        guard !domainKeys.isEmpty else { return message }
        do {
            let signed = try await NIOThreadPool.singleton.runIfActive {
                try DKIMSigner(timestamp: Int64(Date().timeIntervalSince1970)).sign(message: bytes, keys: domainKeys)
            }
            return ByteBuffer(bytes: signed)
        } catch {
            logger.error("DKIM signing for \(domain) failed, sending unsigned: \(error)")
            return message
        }
    }

    /// The domain of the (first) address in the From header, lowercased; nil when there is none.
    static func fromDomain(_ bytes: [UInt8]) -> String? {
        guard let message = try? DKIMMessage(bytes) else { return nil }
        return fromDomain(of: message)
    }

    /// `fromDomain` of a message already parsed.
    static func fromDomain(of message: DKIMMessage) -> String? {
        guard let from = message.headers.first(where: { $0.hasName("From") }) else { return nil }
        let value = String(decoding: from.valueBytes, as: UTF8.self)
        // `Name <local@domain>` or `local@domain`: take the address inside the last <…> if any.
        // Over the UTF-8 bytes: every delimiter is ASCII (a Character-wise search cost 20,000 instructions a
        // message).
        var address = Substring(value)
        if let open = value.utf8.lastIndex(of: UInt8(ascii: "<")),
           let close = value.utf8[open...].firstIndex(of: UInt8(ascii: ">")) {
            address = value[value.utf8.index(after: open)..<close]
        }
        guard let at = address.utf8.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        let rest = address.utf8[address.utf8.index(after: at)...]
        let end = rest.firstIndex { byte in
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: ">"),
                 UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "("), UInt8(ascii: ")"): true
            default: false
            }
        } ?? rest.endIndex
        let domain = address[rest.startIndex..<end]
        return domain.isEmpty ? nil : domain.lowercased()
    }
}
