import Foundation

/// Notices edits of the files `reload()` reads — `certs/*/fullchain.pem` and `privkey.pem` (certbot and
/// acme.sh renewals), `domains/*/users`, `domains/*/aliases` and `domains/*/dkim/*.pem` — by polling their
/// size and modification time. Polling a few dozen `stat` calls every couple of seconds costs nothing and
/// works on every file system, including renames into place and editors that replace files.
struct ConfigWatcher: Sendable {
    let configDirectory: String

    struct Stamp: Hashable, Sendable {
        var size: UInt64
        var modified: Date
    }

    /// path → size and mtime of every watched file.
    func fingerprint() -> [String: Stamp] {
        let fm = FileManager.default
        var paths: [String] = []
        let certs = "\(configDirectory)/certs"
        for name in (try? fm.contentsOfDirectory(atPath: certs)) ?? [] where !name.hasPrefix(".") {
            paths.append("\(certs)/\(name)/fullchain.pem")
            paths.append("\(certs)/\(name)/privkey.pem")
        }
        let domains = "\(configDirectory)/domains"
        for name in (try? fm.contentsOfDirectory(atPath: domains)) ?? [] where !name.hasPrefix(".") {
            paths.append("\(domains)/\(name)/users")
            paths.append("\(domains)/\(name)/aliases")
            let dkim = "\(domains)/\(name)/dkim"
            for key in (try? fm.contentsOfDirectory(atPath: dkim)) ?? [] where key.hasSuffix(".pem") {
                paths.append("\(dkim)/\(key)")
            }
        }
        var result: [String: Stamp] = [:]
        for path in paths {
            guard let attributes = try? fm.attributesOfItem(atPath: path) else { continue }
            result[path] = Stamp(size: (attributes[.size] as? NSNumber)?.uint64Value ?? 0,
                                 modified: attributes[.modificationDate] as? Date ?? .distantPast)
        }
        return result
    }
}
